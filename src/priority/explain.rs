//! One sentence per ranked site, in Bahasa Indonesia or English, that a coordinator can read out
//! to the kepala dinas: who is waiting, how far the region is from its target, when the site was
//! last visited, and what makes it urgent.

use std::collections::HashMap;

use super::{Scored, Site};
use crate::domain::SiteKind;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Id,
    En,
}

/// `84`, `1.250` (id) / `1,250` (en).
fn int(n: f64, lang: Language) -> String {
    let n = n.round() as i64;
    let digits = n.abs().to_string();
    let sep = if lang == Language::Id { '.' } else { ',' };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// One decimal, with a decimal comma in Indonesian: `0,6` / `0.6`; whole numbers without `,0`.
fn dec(x: f64, lang: Language) -> String {
    let s = format!("{:.1}", (x * 10.0).round() / 10.0);
    let s = s.strip_suffix(".0").map(str::to_string).unwrap_or(s);
    if lang == Language::Id {
        s.replace('.', ",")
    } else {
        s
    }
}

fn people(kind: SiteKind, lang: Language) -> &'static str {
    use SiteKind::*;
    match (kind, lang) {
        (Sma | Smk | Ma | Smp | Mts | Slb, Language::Id) => "siswa",
        (Sma | Smk | Ma | Smp | Mts | Slb, Language::En) => "students",
        (Paud | Tk | Ra | Sd | Mi, Language::Id) => "anak",
        (Paud | Tk | Ra | Sd | Mi, Language::En) => "children",
        (_, Language::Id) => "warga",
        (_, Language::En) => "residents",
    }
}

fn lacking(indicator: &str, lang: Language) -> String {
    match (indicator, lang) {
        ("ktp_el", Language::Id) => "belum rekam KTP-el".into(),
        ("ktp_el", Language::En) => "not yet recorded for KTP-el".into(),
        ("kia", Language::Id) => "belum punya KIA".into(),
        ("kia", Language::En) => "without a child ID card (KIA)".into(),
        ("akta_lahir", Language::Id) => "belum punya akta kelahiran".into(),
        ("akta_lahir", Language::En) => "without a birth certificate".into(),
        ("ikd", Language::Id) => "belum aktivasi IKD".into(),
        ("ikd", Language::En) => "without an activated digital ID (IKD)".into(),
        (other, Language::Id) => format!("belum terlayani {other}"),
        (other, Language::En) => format!("not yet served for {other}"),
    }
}

/// The sentence for one ranked site; `region_names` maps region codes to names.
pub fn explain(
    site: &Site,
    scored: &Scored,
    region_names: &HashMap<String, String>,
    lang: Language,
) -> String {
    let mut parts = Vec::new();
    let main = scored.main_term().filter(|t| t.expected_people >= 0.5);
    match main {
        Some(t) => {
            let who = people(site.kind, lang);
            parts.push(match lang {
                Language::Id => format!(
                    "sekitar {} {who} {}",
                    int(t.expected_people, lang),
                    lacking(&t.indicator, lang)
                ),
                Language::En => format!(
                    "about {} {who} {}",
                    int(t.expected_people, lang),
                    lacking(&t.indicator, lang)
                ),
            });
            let region = t
                .coverage_region
                .as_ref()
                .map(|c| region_names.get(c).cloned().unwrap_or_else(|| c.clone()));
            match (region, t.target_percent) {
                (Some(r), Some(target)) if t.gap_points > 0.0 => parts.push(match lang {
                    Language::Id => format!(
                        "{r} {} poin di bawah target {}%",
                        dec(t.gap_points, lang),
                        dec(target, lang)
                    ),
                    Language::En => format!(
                        "{r} {} points below the {}% target",
                        dec(t.gap_points, lang),
                        dec(target, lang)
                    ),
                }),
                (Some(r), Some(target)) => parts.push(match lang {
                    Language::Id => format!("{r} sudah mencapai target {}%", dec(target, lang)),
                    Language::En => format!("{r} already meets the {}% target", dec(target, lang)),
                }),
                _ => {}
            }
            if let Some(d) = t.deadlines.first() {
                parts.push(match lang {
                    Language::Id => format!("menjelang {d}"),
                    Language::En => format!("ahead of {d}"),
                });
            }
        }
        None => parts.push(match lang {
            Language::Id => "tidak ada sasaran tersisa yang terhitung".into(),
            Language::En => "no remaining people counted".into(),
        }),
    }
    parts.push(match (scored.days_since_visit, lang) {
        (Some(0), Language::Id) => "dikunjungi hari ini".into(),
        (Some(0), Language::En) => "visited today".into(),
        (Some(d), Language::Id) => format!("kunjungan terakhir {d} hari lalu"),
        (Some(d), Language::En) => format!("last visit {d} days ago"),
        (None, Language::Id) => "belum pernah dikunjungi".into(),
        (None, Language::En) => "never visited".into(),
    });
    format!("{}: {}.", site.name, parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(int(2018069.0, Language::Id), "2.018.069");
        assert_eq!(int(2018069.0, Language::En), "2,018,069");
        assert_eq!(int(84.4, Language::Id), "84");
        assert_eq!(dec(0.6, Language::Id), "0,6");
        assert_eq!(dec(99.4, Language::En), "99.4");
        assert_eq!(dec(60.0, Language::Id), "60");
    }
}
