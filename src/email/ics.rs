//! The iCalendar attachment: one VEVENT per visit, in the region's time zone.
//!
//! A visit's UID is built from the region, the ISO week, the site and the part, never from the
//! plan version, so a re-planned week updates the same events in a phone's calendar (SEQUENCE
//! carries the version) and a dropped visit is sent as a cancelled event with the same UID.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use icalendar::{Calendar, CalendarDateTime, Component, Event, EventLike, EventStatus, Property};

use super::{ChangeKind, Lang, TeamWeek, Visit, indicator_label, kind_label, people_count};

/// Stable across versions of the week's plan.
pub fn uid(week: &TeamWeek, v: &Visit) -> String {
    format!(
        "jemput-{}-{}-site{}-part{}@{}",
        week.region_code, week.week, v.site_id, v.part, week.uid_domain
    )
}

fn local(date: NaiveDate, hm: &str) -> Option<NaiveDateTime> {
    let t = NaiveTime::parse_from_str(hm, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(hm, "%H:%M:%S"))
        .ok()?;
    Some(date.and_time(t))
}

/// VTIMEZONE for a zone without daylight saving (all of Indonesia): one STANDARD rule. Written
/// as text because icalendar 0.17 builds events but not time-zone components.
fn vtimezone(tzid: &str, on: NaiveDate) -> String {
    let offset = tzid
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.offset_from_utc_date(&on).fix().local_minus_utc())
        .unwrap_or(7 * 3600);
    let sign = if offset < 0 { '-' } else { '+' };
    let hhmm = format!(
        "{sign}{:02}{:02}",
        offset.abs() / 3600,
        (offset.abs() % 3600) / 60
    );
    let abbrev = match offset {
        25200 => "WIB",
        28800 => "WITA",
        32400 => "WIT",
        _ => "LMT",
    };
    [
        "BEGIN:VTIMEZONE".to_string(),
        format!("TZID:{tzid}"),
        "BEGIN:STANDARD".to_string(),
        "DTSTART:19700101T000000".to_string(),
        format!("TZOFFSETFROM:{hhmm}"),
        format!("TZOFFSETTO:{hhmm}"),
        format!("TZNAME:{abbrev}"),
        "END:STANDARD".to_string(),
        "END:VTIMEZONE".to_string(),
    ]
    .iter()
    .map(|l| format!("{l}\r\n"))
    .collect()
}

fn event(
    week: &TeamWeek,
    lang: Lang,
    date: NaiveDate,
    v: &Visit,
    stamp: chrono::DateTime<chrono::Utc>,
    cancelled: bool,
) -> Option<Event> {
    // Whole minutes: a calendar reads "07:30", not "07:30:20".
    let start = local(date, &super::hhmm(&v.start))?;
    let end = local(date, &super::hhmm(&v.end))?;
    let tzid = week.time_zone.clone();
    let services: Vec<String> = v
        .people
        .iter()
        .filter(|(_, n)| people_count(**n) > 0)
        .map(|(code, n)| format!("{} ±{}", indicator_label(lang, code), people_count(*n)))
        .collect();
    let mut description = format!(
        "{} · {}",
        kind_label(lang, &v.kind),
        match lang {
            Lang::Id => format!("tiba {}", super::hhmm(&v.arrive)),
            Lang::En => format!("arrive {}", super::hhmm(&v.arrive)),
        }
    );
    if !services.is_empty() {
        description.push_str(&format!("\n{}", services.join("; ")));
    }
    if let Some(c) = &v.contact_name {
        description.push_str(&format!(
            "\n{}: {c}",
            if lang == Lang::Id {
                "Kontak"
            } else {
                "Contact"
            }
        ));
        if let Some(p) = &v.contact_phone {
            description.push_str(&format!(", {p}"));
        }
    }
    // On the day the calendar leads to the place and to the report.
    description.push_str(&format!(
        "\n{}: {}",
        if lang == Lang::Id { "Peta" } else { "Map" },
        super::osm_link(v.lat, v.lon)
    ));
    if let Some(url) = &v.log_url {
        let url = match lang {
            Lang::En => format!("{url}?lang=en"),
            Lang::Id => url.clone(),
        };
        description.push_str(&format!(
            "\n{}: {url}",
            if lang == Lang::Id {
                "Catat hasil kunjungan"
            } else {
                "Log this visit"
            }
        ));
    }
    let part = match (v.parts > 1, lang) {
        (false, _) => String::new(),
        (true, Lang::Id) => format!(" (bagian {}/{})", v.part, v.parts),
        (true, Lang::En) => format!(" (part {}/{})", v.part, v.parts),
    };
    let mut e = Event::with_uid(&uid(week, v));
    e.summary(&format!("{} — {}{part}", week.team_name, v.name))
        .description(&description)
        .location(&format!("{}, {}", v.name, super::full_address(lang, v)))
        .add_property("GEO", format!("{:.6};{:.6}", v.lat, v.lon))
        .starts(CalendarDateTime::WithTimezone {
            date_time: start,
            tzid: tzid.clone(),
        })
        .ends(CalendarDateTime::WithTimezone {
            date_time: end,
            tzid,
        })
        .sequence(week.plan_version.max(0) as u32)
        .timestamp(stamp)
        .status(if cancelled {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        });
    Some(e.done())
}

/// The team's week as iCalendar text: its visits, plus cancelled events for visits dropped since
/// the previous version.
pub fn calendar(week: &TeamWeek, lang: Lang, stamp: chrono::DateTime<chrono::Utc>) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//jemput//jadwal jemput bola//ID"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"));
    cal.name(&format!("jemput {} {}", week.team_name, week.week))
        .timezone(week.time_zone.as_str());
    let first = week
        .days
        .first()
        .map(|d| d.date)
        .or_else(|| super::week_span(&week.week).map(|s| s.0))
        .unwrap_or_default();
    for d in &week.days {
        for v in &d.visits {
            if let Some(e) = event(week, lang, d.date, v, stamp, false) {
                cal.push(e);
            }
        }
    }
    for c in &week.changes {
        if c.kind == ChangeKind::Dropped
            && let Some((date, _)) = &c.before
            && let Some(e) = event(week, lang, *date, &c.visit, stamp, true)
        {
            cal.push(e);
        }
    }
    let text = cal.done().to_string();
    // The zone definition goes before the first event (or the end of an empty calendar).
    let at = text
        .find("BEGIN:VEVENT")
        .or_else(|| text.find("END:VCALENDAR"))
        .unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + 256);
    out.push_str(&text[..at]);
    out.push_str(&vtimezone(&week.time_zone, first));
    out.push_str(&text[at..]);
    out
}
