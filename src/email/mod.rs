//! What a field team reads: the weekly schedule email (text, HTML and an iCalendar attachment),
//! the change notice and the coordinator's reminder. Pure: data in, strings out; no database,
//! no SMTP. Bahasa Indonesia by default, English for members who chose it.

mod bring;
mod ics;
pub mod notice;
pub mod words;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use minijinja::{Environment, context};
use serde::Serialize;

use bring::{blangko_line, to_bring};
pub use ics::calendar;
use words::*;
pub use words::{date_range, duration, hhmm, kind_label, long_date, thousands, week_span};

/// The language a recipient reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Id,
    En,
}

impl Lang {
    /// `en` reads English; anything else (the default, `id`) Bahasa Indonesia.
    pub fn from_code(code: &str) -> Self {
        if code.eq_ignore_ascii_case("en") {
            Lang::En
        } else {
            Lang::Id
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }
}

/// One team's week of a published plan, with everything the email needs.
#[derive(Debug, Clone, Serialize)]
pub struct TeamWeek {
    pub region_code: String,
    pub region_name: String,
    /// IANA zone of the region (`Asia/Jakarta`, `Asia/Makassar`): times below are local to it.
    pub time_zone: String,
    pub week: String,
    pub plan_version: i32,
    pub team_name: String,
    pub kits: i32,
    /// The team prints KTP-el cards on site (capability `cetak_kartu`).
    pub prints_cards: bool,
    /// Days with at least one visit, in date order.
    pub days: Vec<TeamDay>,
    /// What changed against the previously published version (empty for a first publication).
    pub changes: Vec<Change>,
    /// Domain for iCalendar UIDs (the configured Message-ID domain).
    pub uid_domain: String,
    /// The region's coordinator (name, phone), who signs the schedule and gets the replies.
    pub coordinator: Option<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamDay {
    pub date: NaiveDate,
    pub base_name: String,
    /// Back at base (HH:MM).
    pub back_at: String,
    pub travel_s: i64,
    /// The midday break this day takes (start, end as HH:MM), if any.
    pub break_at: Option<(String, String)>,
    pub visits: Vec<Visit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Visit {
    pub site_id: i64,
    pub part: i32,
    pub parts: i32,
    pub name: String,
    pub kind: String,
    pub address: String,
    /// The kecamatan's name, shown with every address.
    pub kecamatan: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub arrive: String,
    pub start: String,
    pub end: String,
    pub travel_from_prev_s: i32,
    /// Expected people per indicator (`ktp_el`, `kia`, `akta_lahir`, `ikd`).
    pub people: BTreeMap<String, f64>,
    /// The people are estimates from coverage figures, not the site's own count.
    pub estimated: bool,
    /// Made up by a synthetic data layer (the demo): not a real place.
    pub synthetic: bool,
    /// The pin is the desa's or kecamatan's centre, not the site's own position.
    pub approximate_location: bool,
    /// The signed link that opens this visit's report form (no password needed).
    pub log_url: Option<String>,
    /// Cards the visit may print on site (`ktp_el`, `kia`): the blangko to take.
    pub cards: BTreeMap<String, u32>,
    /// `antar` (a PAUD's drop-off), `ambil` (its pick-up) or empty.
    pub task: String,
}

impl Visit {
    /// The same visit in every version of the week's plan: what an iCalendar UID is built on.
    pub fn key(&self) -> (i64, i32) {
        (self.site_id, self.part)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Moved,
    Dropped,
}

/// One visit that differs from the previously published version.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub visit: Visit,
    /// Day and start before (moved, dropped) and after (added, moved).
    pub before: Option<(NaiveDate, String)>,
    pub after: Option<(NaiveDate, String)>,
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// `text/calendar` attachment.
    pub ics: Option<String>,
}

/// Compare two versions of a team's week: visits are the same when site and part are.
pub fn diff(before: &[TeamDay], after: &[TeamDay]) -> Vec<Change> {
    let index = |days: &[TeamDay]| -> BTreeMap<(i64, i32), (NaiveDate, Visit)> {
        days.iter()
            .flat_map(|d| d.visits.iter().map(move |v| (v.key(), (d.date, v.clone()))))
            .collect()
    };
    let old = index(before);
    let new = index(after);
    let mut changes = Vec::new();
    for (key, (day, visit)) in &new {
        match old.get(key) {
            None => changes.push(Change {
                kind: ChangeKind::Added,
                visit: visit.clone(),
                before: None,
                after: Some((*day, visit.start.clone())),
            }),
            Some((old_day, old_visit)) if old_day != day || old_visit.start != visit.start => {
                changes.push(Change {
                    kind: ChangeKind::Moved,
                    visit: visit.clone(),
                    before: Some((*old_day, old_visit.start.clone())),
                    after: Some((*day, visit.start.clone())),
                })
            }
            Some(_) => {}
        }
    }
    for (key, (day, visit)) in &old {
        if !new.contains_key(key) {
            changes.push(Change {
                kind: ChangeKind::Dropped,
                visit: visit.clone(),
                before: Some((*day, visit.start.clone())),
                after: None,
            });
        }
    }
    changes.sort_by(|a, b| {
        let when = |c: &Change| c.after.clone().or_else(|| c.before.clone());
        when(a)
            .cmp(&when(b))
            .then(a.visit.key().cmp(&b.visit.key()))
    });
    changes
}

// ---------------------------------------------------------------------------------------------
// Words

/// The address with its kecamatan ("JL. JAMBU NO. 17, Kec. Kaliwates"), unless it names it.
pub fn full_address(lang: Lang, v: &Visit) -> String {
    address_with_kecamatan(lang, &v.address, v.kecamatan.as_deref())
}

/// `address, Kec. X` (`address, X district`), unless the address already names X.
pub fn address_with_kecamatan(lang: Lang, address: &str, kecamatan: Option<&str>) -> String {
    let address = address.trim().trim_end_matches(',');
    match kecamatan {
        Some(k) if !address.to_lowercase().contains(&k.to_lowercase()) => {
            let k = match lang {
                Lang::Id => format!("Kec. {k}"),
                Lang::En => format!("{k} district"),
            };
            if address.is_empty() {
                k
            } else {
                format!("{address}, {k}")
            }
        }
        _ => address.to_string(),
    }
}

fn osm_link(lat: f64, lon: f64) -> String {
    format!("https://www.openstreetmap.org/?mlat={lat:.5}&mlon={lon:.5}#map=17/{lat:.5}/{lon:.5}")
}

// ---------------------------------------------------------------------------------------------
// Rendering

#[derive(Serialize)]
struct VisitCtx {
    n: usize,
    name: String,
    kind: String,
    /// "situs sintetis", "lokasi perkiraan", "termasuk ishoma".
    marks: Vec<String>,
    part: Option<String>,
    address: String,
    contact: Option<String>,
    arrive: Option<String>,
    start: String,
    end: String,
    travel: String,
    people: Vec<String>,
    estimated: bool,
    bring: Vec<String>,
    map: String,
    log_url: Option<String>,
}

#[derive(Serialize)]
struct DayCtx {
    title: String,
    /// "Ishoma 12:00–13:00".
    break_line: Option<String>,
    base: String,
    back_at: String,
    travel: String,
    /// "3 kunjungan" / "1 visit".
    count: String,
    visits: Vec<VisitCtx>,
    people: String,
    /// "Blangko dibawa: 150 KTP-el, 80 KIA" when the day prints cards.
    blangko: Option<String>,
}

#[derive(Serialize)]
struct ChangeCtx {
    what: String,
    name: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    for (name, src) in [
        ("schedule.txt", include_str!("templates/schedule.txt")),
        ("schedule.html", include_str!("templates/schedule.html")),
        ("reminder.txt", include_str!("templates/reminder.txt")),
        ("reminder.html", include_str!("templates/reminder.html")),
        ("notice.txt", include_str!("templates/notice.txt")),
        ("notice.html", include_str!("templates/notice.html")),
    ] {
        env.add_template(name, src)
            .expect("the embedded email templates parse");
    }
    env
}

/// "WIB (Asia/Jakarta)": how Indonesians name their zones, with the IANA name calendars use.
fn zone_label(tz: &str) -> String {
    let abbrev = match tz {
        "Asia/Jakarta" | "Asia/Pontianak" => Some("WIB"),
        "Asia/Makassar" => Some("WITA"),
        "Asia/Jayapura" => Some("WIT"),
        _ => None,
    };
    match abbrev {
        Some(a) => format!("{a} ({tz})"),
        None => tz.to_string(),
    }
}

fn people_lines(lang: Lang, people: &BTreeMap<String, f64>) -> Vec<String> {
    people
        .iter()
        .filter(|(_, n)| people_count(**n) > 0)
        .map(|(code, n)| {
            format!(
                "{}: ±{} {}",
                indicator_label(lang, code),
                thousands(lang, people_count(*n)),
                if lang == Lang::Id { "orang" } else { "people" }
            )
        })
        .collect()
}

/// What the reader must know about a visit beside its name.
fn marks(lang: Lang, v: &Visit, break_at: Option<&(String, String)>) -> Vec<String> {
    let mut out = Vec::new();
    let id = lang == Lang::Id;
    if v.synthetic {
        out.push(
            if id {
                "situs sintetis dari data demo"
            } else {
                "synthetic demo site"
            }
            .to_string(),
        );
    }
    if v.approximate_location {
        out.push(
            if id {
                "lokasi perkiraan: pastikan alamatnya"
            } else {
                "approximate location: confirm the address"
            }
            .to_string(),
        );
    }
    if let Some((start, _)) = break_at
        && v.start.as_str() < start.as_str()
        && v.end.as_str() > start.as_str()
    {
        out.push(
            if id {
                "termasuk ishoma"
            } else {
                "includes the midday break"
            }
            .to_string(),
        );
    }
    out
}

fn change_line(lang: Lang, c: &Change) -> ChangeCtx {
    let when = |x: &Option<(NaiveDate, String)>| {
        x.as_ref()
            .map(|(d, t)| format!("{} {}", long_date(lang, *d), hhmm(t)))
            .unwrap_or_default()
    };
    let what = match (lang, c.kind) {
        (Lang::Id, ChangeKind::Added) => format!("DITAMBAH: {}", when(&c.after)),
        (Lang::En, ChangeKind::Added) => format!("ADDED: {}", when(&c.after)),
        (Lang::Id, ChangeKind::Moved) => {
            format!("DIPINDAH: {} → {}", when(&c.before), when(&c.after))
        }
        (Lang::En, ChangeKind::Moved) => {
            format!("MOVED: {} → {}", when(&c.before), when(&c.after))
        }
        (Lang::Id, ChangeKind::Dropped) => format!("DIBATALKAN: {}", when(&c.before)),
        (Lang::En, ChangeKind::Dropped) => format!("CANCELLED: {}", when(&c.before)),
    };
    ChangeCtx {
        what,
        name: c.visit.name.clone(),
    }
}

fn span(week: &TeamWeek) -> (NaiveDate, NaiveDate) {
    match (week.days.first(), week.days.last()) {
        (Some(f), Some(l)) => (f.date, l.date),
        _ => week_span(&week.week).unwrap_or_default(),
    }
}

/// The schedule email (or, when `week.changes` is not empty, the change notice) for one
/// recipient. `stamp` is the iCalendar DTSTAMP, passed in so rendering is repeatable.
pub fn render_schedule(
    week: &TeamWeek,
    lang: Lang,
    stamp: chrono::DateTime<chrono::Utc>,
) -> Rendered {
    let (first, last) = span(week);
    let range = date_range(lang, first, last);
    let is_change = !week.changes.is_empty();
    let subject = match (lang, is_change) {
        (Lang::Id, false) => format!("Jadwal jemput bola {} — {range}", week.team_name),
        (Lang::En, false) => format!("Outreach schedule {} — {range}", week.team_name),
        (Lang::Id, true) => format!("Perubahan jadwal jemput bola {} — {range}", week.team_name),
        (Lang::En, true) => format!("Schedule change {} — {range}", week.team_name),
    };
    let mut week_people = 0i64;
    let mut week_travel = 0i64;
    let mut week_visits = 0usize;
    let days: Vec<DayCtx> = week
        .days
        .iter()
        .map(|d| {
            let visits: Vec<VisitCtx> = d
                .visits
                .iter()
                .enumerate()
                .map(|(i, v)| VisitCtx {
                    n: i + 1,
                    name: v.name.clone(),
                    kind: kind_label(lang, &v.kind),
                    marks: marks(lang, v, d.break_at.as_ref()),
                    part: (v.parts > 1).then(|| match (lang, v.task.as_str()) {
                        (Lang::Id, "antar") => "tahap 1 dari 2: antar formulir KIA".to_string(),
                        (Lang::En, "antar") => "step 1 of 2: KIA forms drop-off".to_string(),
                        (Lang::Id, "ambil") => {
                            "tahap 2 dari 2: ambil berkas, proses KIA".to_string()
                        }
                        (Lang::En, "ambil") => "step 2 of 2: document pick-up, KIA".to_string(),
                        (Lang::Id, _) => format!("bagian {} dari {}", v.part, v.parts),
                        (Lang::En, _) => format!("part {} of {}", v.part, v.parts),
                    }),
                    address: full_address(lang, v),
                    contact: match (&v.contact_name, &v.contact_phone) {
                        (Some(n), Some(p)) => Some(format!("{n}, {p}")),
                        (Some(n), None) => Some(n.clone()),
                        (None, Some(p)) => Some(p.clone()),
                        (None, None) => None,
                    },
                    // Only when the team waits before the service starts.
                    arrive: (hhmm(&v.arrive) != hhmm(&v.start)).then(|| hhmm(&v.arrive)),
                    start: hhmm(&v.start),
                    end: hhmm(&v.end),
                    travel: duration(lang, v.travel_from_prev_s as i64),
                    people: people_lines(lang, &v.people),
                    estimated: v.estimated,
                    bring: to_bring(lang, v, week.kits, week.prints_cards),
                    map: osm_link(v.lat, v.lon),
                    // An English reader's form opens in English.
                    log_url: v.log_url.as_ref().map(|u| match lang {
                        Lang::En => format!("{u}?lang=en"),
                        Lang::Id => u.clone(),
                    }),
                })
                .collect();
            let people: i64 = d
                .visits
                .iter()
                .map(|v| v.people.values().copied().map(people_count).sum::<i64>())
                .sum();
            week_people += people;
            week_travel += d.travel_s;
            week_visits += visits.len();
            DayCtx {
                title: long_date(lang, d.date),
                break_line: d.break_at.as_ref().map(|(a, b)| match lang {
                    Lang::Id => format!("Ishoma {a}–{b}: tidak ada layanan atau perjalanan."),
                    Lang::En => format!("Midday break {a}–{b}: no service or travel."),
                }),
                base: d.base_name.clone(),
                back_at: hhmm(&d.back_at),
                travel: duration(lang, d.travel_s),
                count: visits_count(lang, visits.len()),
                blangko: blangko_line(lang, &d.visits),
                visits,
                people: thousands(lang, people),
            }
        })
        .collect();
    let changes: Vec<ChangeCtx> = week.changes.iter().map(|c| change_line(lang, c)).collect();
    let ctx = context! {
        t => labels(lang),
        lang => lang,
        subject => &subject,
        team => &week.team_name,
        region => &week.region_name,
        time_zone => zone_label(&week.time_zone),
        version => week.plan_version,
        days => days,
        changes => changes,
        week_visits => visits_count(lang, week_visits),
        week_people => thousands(lang, week_people),
        week_travel => duration(lang, week_travel),
        coordinator => week.coordinator.as_ref().map(|(name, phone)| match lang {
            Lang::Id => format!("{name}, telepon {phone}. Balas email ini untuk bertanya atau melapor kendala."),
            Lang::En => format!("{name}, phone {phone}. Reply to this email with questions or problems."),
        }),
    };
    let env = environment();
    let render = |name: &str| {
        env.get_template(name)
            .and_then(|t| t.render(&ctx))
            .expect("the email templates render with this context")
    };
    Rendered {
        text: render("schedule.txt"),
        html: render("schedule.html"),
        ics: Some(calendar(week, lang, stamp)),
        subject,
    }
}

/// The coordinator's reminder at the weekly trigger when next week's plan is not approved.
pub fn render_reminder(
    region_code: &str,
    region_name: &str,
    week: &str,
    has_draft: bool,
    lang: Lang,
) -> Rendered {
    let (first, last) = week_span(week).unwrap_or_default();
    let range = date_range(lang, first, last);
    let subject = match lang {
        Lang::Id => format!("Pengingat: jadwal jemput bola {region_name} {range} belum disetujui"),
        Lang::En => {
            format!("Reminder: the {region_name} outreach schedule for {range} is not approved")
        }
    };
    let ctx = context! {
        lang => lang,
        region => region_name,
        code => region_code,
        week => week,
        range => range,
        has_draft => has_draft,
    };
    let env = environment();
    let render = |name: &str| {
        env.get_template(name)
            .and_then(|t| t.render(&ctx))
            .expect("the reminder templates render")
    };
    Rendered {
        text: render("reminder.txt"),
        html: render("reminder.html"),
        ics: None,
        subject,
    }
}

#[cfg(test)]
pub(crate) mod tests;
