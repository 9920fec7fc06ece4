//! One sentence per ranked site, in Bahasa Indonesia or English, that a coordinator can read out
//! to the kepala dinas: who is waiting, how far the region is from its target, when the site was
//! last visited, and what makes it urgent.

use std::collections::HashMap;

use super::{Basis, Scored, Site};
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
    crate::domain::words::thousands(n.round() as i64, lang == Language::En)
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
        (Panti | Rsj, Language::Id) => "penghuni",
        (Panti | Rsj, Language::En) => "residents",
        (Lapas, Language::Id) => "warga binaan",
        (Lapas, Language::En) => "inmates",
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

/// "Kec. Jombang", "Desa Keting", "Kabupaten Jember" (names of kabupaten/kota already say so).
fn region_label(code: &str, names: &HashMap<String, String>, lang: Language) -> String {
    let name = names.get(code).cloned().unwrap_or_else(|| code.to_string());
    match (code.split('.').count(), lang) {
        (3, Language::Id) => format!("Kec. {name}"),
        (3, Language::En) => format!("{name} district"),
        (4, Language::Id) if !name.starts_with("Kel") => format!("Desa {name}"),
        (4, Language::En) => format!("{name} village"),
        _ => name,
    }
}

fn indicator_name(indicator: &str, lang: Language) -> &str {
    match (indicator, lang) {
        ("ktp_el", _) => "KTP-el",
        ("kia", _) => "KIA",
        ("akta_lahir", Language::Id) => "akta kelahiran",
        ("akta_lahir", Language::En) => "birth certificates",
        ("ikd", _) => "IKD",
        (other, _) => other,
    }
}

/// The sentence for one ranked site; `region_names` maps region codes to names. Estimates say
/// "perkiraan" and name the coverage figure and its date (and its age when it is old); counts
/// say whose count; a synthetic site says so.
pub fn explain(
    site: &Site,
    scored: &Scored,
    region_names: &HashMap<String, String>,
    lang: Language,
) -> String {
    let id = lang == Language::Id;
    let mut parts = Vec::new();
    match scored.main_term() {
        Some(t) if t.basis == Basis::NoData => parts.push(if id {
            format!(
                "tidak ada data cakupan {} untuk memperkirakan sasaran",
                indicator_name(t.indicator, lang)
            )
        } else {
            format!(
                "no {} coverage figure to estimate from",
                indicator_name(t.indicator, lang)
            )
        }),
        Some(t) => {
            let who = people(site.kind, lang);
            let n = int(t.expected_people, lang);
            let what = lacking(t.indicator, lang);
            match t.basis {
                Basis::Count => {
                    let when = t
                        .count_as_of
                        .map(|d| {
                            let d = crate::domain::words::day_month_year(d, !id);
                            if id {
                                format!(" per {d}")
                            } else {
                                format!(" as of {d}")
                            }
                        })
                        .unwrap_or_default();
                    parts.push(if id {
                        format!("{n} {who} {what} menurut data situs{when}")
                    } else {
                        format!("{n} {who} {what} by the site's own count{when}")
                    });
                }
                _ => {
                    let source = match (&t.coverage_region, t.coverage_as_of) {
                        (Some(r), Some(d)) => {
                            let r = region_label(r, region_names, lang);
                            let date = crate::domain::words::day_month_year(d, !id);
                            let age = t
                                .coverage_age_days
                                .filter(|_| t.coverage_old)
                                .map(|days| {
                                    let months = (days as f64 / 30.44).floor() as i64;
                                    if id {
                                        format!(", data sudah {months} bulan")
                                    } else {
                                        format!(", data {months} months old")
                                    }
                                })
                                .unwrap_or_default();
                            if id {
                                format!(" (dari cakupan {r} per {date}{age})")
                            } else {
                                format!(" (from {r}'s coverage as of {date}{age})")
                            }
                        }
                        _ => String::new(),
                    };
                    parts.push(if id {
                        format!("perkiraan {n} {who} {what}{source}")
                    } else {
                        format!("an estimated {n} {who} {what}{source}")
                    });
                }
            }
            let judged = t
                .judged_region
                .as_ref()
                .map(|r| region_label(r, region_names, lang));
            let ind = indicator_name(t.indicator, lang);
            // A target set as a share of KTP-el holders says so (Jawa Timur's IKD target).
            let of = match (t.target_basis, id) {
                ("ktp_el", true) => " dari pemegang KTP-el",
                ("ktp_el", false) => " of KTP-el holders",
                _ => "",
            };
            match (judged, t.target_percent) {
                (Some(r), Some(target)) if t.shortfall >= 1.0 => parts.push(if id {
                    format!(
                        "{r} kurang {} orang ({} poin) untuk target {ind} {}%{of}",
                        int(t.shortfall, lang),
                        dec(t.gap_points, lang),
                        dec(target, lang)
                    )
                } else {
                    format!(
                        "{r} is {} people ({} points) short of the {}% {ind} target{of}",
                        int(t.shortfall, lang),
                        dec(t.gap_points, lang),
                        dec(target, lang)
                    )
                }),
                (Some(r), Some(target)) => parts.push(if id {
                    format!("{r} sudah mencapai target {ind} {}%{of}", dec(target, lang))
                } else {
                    format!(
                        "{r} already meets the {}% {ind} target{of}",
                        dec(target, lang)
                    )
                }),
                _ => {}
            }
            if let Some(d) = t.deadlines.first() {
                parts.push(if id {
                    format!("menjelang {d}")
                } else {
                    format!("ahead of {d}")
                });
            }
        }
        None => parts.push(if id {
            "tidak ada sasaran tersisa yang terhitung".into()
        } else {
            "no remaining people counted".into()
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
    let marker = match (site.synthetic, lang) {
        (true, Language::Id) => " (situs sintetis)",
        (true, Language::En) => " (synthetic site)",
        _ => "",
    };
    format!("{}{marker}: {}.", site.name, parts.join("; "))
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
