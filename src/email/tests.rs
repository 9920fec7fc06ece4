//! The schedule email as a field team reads it: snapshots of the text and HTML (approved files
//! in `src/email/snapshots/`), and the calendar parsed by an independent iCalendar parser.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;

fn visit(
    site_id: i64,
    name: &str,
    kind: &str,
    start: &str,
    end: &str,
    people: &[(&str, f64)],
) -> Visit {
    Visit {
        site_id,
        part: 1,
        parts: 1,
        name: name.into(),
        kind: kind.into(),
        address: format!("Jl. Contoh No. {site_id}, Jember"),
        kecamatan: Some("Kaliwates".into()),
        contact_name: Some("Bu Sri (Wakasek Kesiswaan)".into()),
        contact_phone: Some("0812-3456-7890".into()),
        lat: -8.17 - site_id as f64 * 0.001,
        lon: 113.70 + site_id as f64 * 0.001,
        arrive: "07:10".into(),
        start: start.into(),
        end: end.into(),
        travel_from_prev_s: 1500,
        people: people
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<BTreeMap<_, _>>(),
        estimated: true,
        synthetic: false,
        approximate_location: false,
        log_url: Some(format!(
            "https://jemput.example.go.id/v/{site_id}.2.1764892800.c2lnbmF0dXJl"
        )),
        // A KIA card per child (the fixture's team prints no KTP-el cards).
        cards: people
            .iter()
            .filter(|(k, _)| *k == "kia")
            .map(|(k, v)| (k.to_string(), v.round() as u32))
            .collect(),
        task: String::new(),
    }
}

pub(crate) fn fixture() -> TeamWeek {
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    TeamWeek {
        region_code: "35.09".into(),
        region_name: "Kabupaten Jember".into(),
        time_zone: "Asia/Jakarta".into(),
        week: "2026-W48".into(),
        plan_version: 1,
        team_name: "Tim 2".into(),
        kits: 2,
        prints_cards: false,
        days: vec![
            TeamDay {
                date: day(23),
                base_name: "Dispendukcapil Jember, Jl. Jawa No. 47".into(),
                back_at: "13:50".into(),
                travel_s: 3900,
                break_at: Some(("12:00".into(), "13:00".into())),
                visits: vec![
                    // The school's own list: counted, not estimated.
                    Visit {
                        estimated: false,
                        ..visit(
                            101,
                            "SMAN 1 Jember",
                            "sma",
                            "07:30:20",
                            "11:40:20",
                            &[("ktp_el", 148.0), ("ikd", 60.0)],
                        )
                    },
                    // A synthetic kindergarten whose visit runs through the break.
                    Visit {
                        synthetic: true,
                        ..visit(
                            102,
                            "TK Dharma Wanita",
                            "tk",
                            "11:55",
                            "13:25",
                            &[("kia", 14.6)],
                        )
                    },
                ],
            },
            TeamDay {
                date: day(28),
                base_name: "Dispendukcapil Jember, Jl. Jawa No. 47".into(),
                back_at: "10:40".into(),
                travel_s: 2400,
                break_at: None,
                // Placed at the desa's centre: the team confirms where the office is.
                visits: vec![Visit {
                    approximate_location: true,
                    ..visit(
                        103,
                        "Balai Desa Sukorambi",
                        "balai_desa",
                        "08:00",
                        "10:00",
                        &[("akta_lahir", 9.0), ("ktp_el", 12.0)],
                    )
                }],
            },
        ],
        changes: Vec::new(),
        uid_domain: "jemput.invalid".into(),
        coordinator: Some((
            "Koordinator jemput bola Jember".into(),
            "0331-000000".into(),
        )),
    }
}

pub(crate) fn stamp() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 7, 0, 0).unwrap()
}

#[test]
fn weekly_email_in_bahasa_indonesia() {
    let r = render_schedule(&fixture(), Lang::Id, stamp());
    assert_eq!(r.subject, "Jadwal jemput bola Tim 2 — 23–28 November 2026");
    insta::assert_snapshot!("schedule_id_text", r.text);
    insta::assert_snapshot!("schedule_id_html", r.html);
    // Route order: the first visit of Monday comes before the second.
    assert!(r.text.find("SMAN 1 Jember").unwrap() < r.text.find("TK Dharma Wanita").unwrap());
}

#[test]
fn weekly_email_in_english() {
    let r = render_schedule(&fixture(), Lang::En, stamp());
    assert_eq!(r.subject, "Outreach schedule Tim 2 — 23–28 November 2026");
    insta::assert_snapshot!("schedule_en_text", r.text);
}

#[test]
fn the_html_escapes_what_comes_from_the_data() {
    let mut w = fixture();
    w.days[0].visits[0].name = "SMA <script>alert(1)</script> & Co".into();
    let r = render_schedule(&w, Lang::Id, stamp());
    assert!(!r.html.contains("<script>"));
    assert!(r.html.contains("&lt;script&gt;"));
}

pub(crate) fn has_digit_run(s: &str, n: usize) -> bool {
    let mut run = 0;
    for c in s.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= n {
            return true;
        }
    }
    false
}

pub(crate) fn regex_free_redact(s: &str, start: &str, end: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(start) {
        out.push_str(&rest[..i]);
        let after = &rest[i + start.len()..];
        match after.find(end) {
            Some(j) => {
                out.push_str(with);
                rest = &after[j + end.len()..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse(ics: &str) -> ical::parser::ical::component::IcalCalendar {
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()));
    let cal = parser
        .next()
        .expect("one calendar")
        .expect("the calendar parses");
    assert!(parser.next().is_none());
    cal
}

fn prop<'a>(
    props: &'a [ical::property::Property],
    name: &str,
) -> Option<&'a ical::property::Property> {
    props.iter().find(|p| p.name == name)
}

#[test]
fn the_calendar_has_one_event_per_visit_in_the_region_time_zone() {
    let week = fixture();
    let ics = calendar(&week, Lang::Id, stamp());
    let cal = parse(&ics);
    assert_eq!(cal.events.len(), 3, "{ics}");
    assert_eq!(cal.timezones.len(), 1);
    let first = &cal.events[0].properties;
    let start = prop(first, "DTSTART").unwrap();
    assert_eq!(start.value.as_deref(), Some("20261123T073000"));
    let tzid = start
        .params
        .as_ref()
        .unwrap()
        .iter()
        .find(|(k, _)| k == "TZID")
        .unwrap();
    assert_eq!(tzid.1, vec!["Asia/Jakarta".to_string()]);
    assert_eq!(
        prop(first, "GEO").unwrap().value.as_deref(),
        Some("-8.271000;113.801000")
    );
    assert!(
        prop(first, "LOCATION")
            .unwrap()
            .value
            .as_deref()
            .unwrap()
            .contains("SMAN 1 Jember")
    );
    let uids: Vec<String> = cal
        .events
        .iter()
        .map(|e| prop(&e.properties, "UID").unwrap().value.clone().unwrap())
        .collect();
    assert_eq!(
        uids[0],
        "jemput-35.09-2026-W48-site101-part1@jemput.invalid"
    );
    let unique: std::collections::HashSet<_> = uids.iter().collect();
    assert_eq!(unique.len(), 3);
    assert!(!ics.contains("NIK"));
}

/// A site split over two days reads "bagian 1/2" in the calendar, and each event leads to the
/// place and to the report (the English one for an English reader); an arrival equal to the
/// start is not repeated; a site without a contact says so.
#[test]
fn events_and_visits_say_what_the_team_needs_on_the_day() {
    let mut week = fixture();
    {
        let v = &mut week.days[0].visits[0];
        v.parts = 2;
        v.arrive = v.start.clone();
        v.contact_name = None;
        v.contact_phone = None;
    }
    let cal = parse(&calendar(&week, Lang::En, stamp()));
    let first = &cal.events[0].properties;
    let summary = prop(first, "SUMMARY").unwrap().value.clone().unwrap();
    assert_eq!(summary, "Tim 2 — SMAN 1 Jember (part 1/2)");
    let description = prop(first, "DESCRIPTION")
        .unwrap()
        .value
        .clone()
        .unwrap()
        .replace("\\n", "\n");
    assert!(
        description.contains("Map: https://www.openstreetmap.org/?mlat=-8.27100"),
        "{description}"
    );
    assert!(
        description.contains(
            "Log this visit: https://jemput.example.go.id/v/101.2.1764892800.c2lnbmF0dXJl?lang=en"
        ),
        "{description}"
    );
    let id = calendar(&week, Lang::Id, stamp());
    assert!(id.contains("(bagian 1/2)"), "{id}");

    let r = render_schedule(&week, Lang::Id, stamp());
    let first_visit = r
        .text
        .split("\n\n")
        .find(|b| b.contains("SMAN 1 Jember"))
        .unwrap();
    assert!(
        first_visit.contains("   Layanan 07:30–11:40"),
        "{first_visit}"
    );
    assert!(!first_visit.contains("Tiba"), "{first_visit}");
    assert!(
        first_visit.contains("Kontak: belum ada — tanyakan ke koordinator"),
        "{first_visit}"
    );
    assert!(first_visit.contains("bagian 1 dari 2"), "{first_visit}");
}

#[test]
fn a_replanned_week_updates_the_same_events_and_cancels_dropped_ones() {
    let before = fixture();
    let mut after = fixture();
    after.plan_version = 2;
    // SMAN 1 moves to Friday; the Balai Desa visit is dropped.
    let moved = after.days[0].visits.remove(0);
    after.days[1].visits = vec![Visit {
        start: "07:30".into(),
        end: "10:30".into(),
        ..moved
    }];
    after.days[1].date = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    after.changes = diff(&before.days, &after.days);
    let kinds: Vec<ChangeKind> = after.changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ChangeKind::Moved, ChangeKind::Dropped]);
    let r = render_schedule(&after, Lang::Id, stamp());
    assert!(
        r.subject.starts_with("Perubahan jadwal jemput bola Tim 2"),
        "{}",
        r.subject
    );
    assert!(r.text.contains("DIPINDAH: Senin, 23 November 2026 07:30 → Jumat, 27 November 2026 07:30 — SMAN 1 Jember"), "{}", r.text);
    assert!(
        r.text
            .contains("DIBATALKAN: Sabtu, 28 November 2026 08:00 — Balai Desa Sukorambi"),
        "{}",
        r.text
    );
    let cal = parse(r.ics.as_deref().unwrap());
    let by_uid = |uid_part: &str| {
        cal.events
            .iter()
            .find(|e| {
                prop(&e.properties, "UID")
                    .unwrap()
                    .value
                    .as_deref()
                    .unwrap()
                    .contains(uid_part)
            })
            .unwrap()
    };
    let sman = by_uid("site101-");
    assert_eq!(
        prop(&sman.properties, "DTSTART").unwrap().value.as_deref(),
        Some("20261127T073000")
    );
    assert_eq!(
        prop(&sman.properties, "SEQUENCE").unwrap().value.as_deref(),
        Some("2")
    );
    let balai = by_uid("site103-");
    assert_eq!(
        prop(&balai.properties, "STATUS").unwrap().value.as_deref(),
        Some("CANCELLED")
    );
}

#[test]
fn dates_read_naturally_in_both_languages() {
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert_eq!(
        date_range(Lang::Id, d(2026, 11, 30), d(2026, 12, 5)),
        "30 November – 5 Desember 2026"
    );
    assert_eq!(
        date_range(Lang::En, d(2026, 12, 28), d(2027, 1, 2)),
        "28 December 2026 – 2 January 2027"
    );
    assert_eq!(
        long_date(Lang::Id, d(2026, 11, 27)),
        "Jumat, 27 November 2026"
    );
    assert_eq!(duration(Lang::Id, 9060), "2 jam 31 menit");
    assert_eq!(duration(Lang::Id, 3600), "1 jam");
    assert_eq!(duration(Lang::Id, 1500), "25 menit");
    assert_eq!(duration(Lang::En, 3900), "1 h 5 min");
    assert_eq!(duration(Lang::En, 1500), "25 min");
    assert_eq!(thousands(Lang::Id, 1111), "1.111");
    assert_eq!(thousands(Lang::En, 1234567), "1,234,567");
    assert_eq!(thousands(Lang::Id, 999), "999");
}
