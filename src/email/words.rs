//! Words of the schedule email: dates, durations, numbers and labels in Bahasa Indonesia and
//! English.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};

use super::Lang;

pub(super) fn month(lang: Lang, d: NaiveDate) -> &'static str {
    crate::domain::words::month_name(d, lang == Lang::En)
}

pub(super) fn weekday(lang: Lang, d: NaiveDate) -> &'static str {
    let i = d.weekday().num_days_from_monday() as usize;
    match lang {
        Lang::Id => [
            "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu",
        ][i],
        Lang::En => [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ][i],
    }
}

/// `07:34` from `07:34:10`: people read minutes.
pub fn hhmm(t: &str) -> String {
    t.get(..5).unwrap_or(t).to_string()
}

/// "Senin, 23 November 2026".
pub fn long_date(lang: Lang, d: NaiveDate) -> String {
    format!(
        "{}, {} {} {}",
        weekday(lang, d),
        d.day(),
        month(lang, d),
        d.year()
    )
}

/// "23–28 November 2026", "30 November – 5 Desember 2026", "28 Desember 2026 – 2 Januari 2027".
pub fn date_range(lang: Lang, first: NaiveDate, last: NaiveDate) -> String {
    if first == last {
        format!("{} {} {}", first.day(), month(lang, first), first.year())
    } else if first.year() != last.year() {
        format!(
            "{} {} {} – {} {} {}",
            first.day(),
            month(lang, first),
            first.year(),
            last.day(),
            month(lang, last),
            last.year()
        )
    } else if first.month() != last.month() {
        format!(
            "{} {} – {} {} {}",
            first.day(),
            month(lang, first),
            last.day(),
            month(lang, last),
            last.year()
        )
    } else {
        format!(
            "{}–{} {} {}",
            first.day(),
            last.day(),
            month(lang, last),
            last.year()
        )
    }
}

/// Monday to Saturday of an ISO week (`2026-W48`), the span used when a team has no visit.
pub fn week_span(week: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (y, w) = week.split_once("-W")?;
    let monday = NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, Weekday::Mon)?;
    Some((monday, monday + chrono::Duration::days(5)))
}

/// A site kind as people say it (`SMK`, `balai desa`), not its code.
pub fn kind_label(lang: Lang, kind: &str) -> String {
    let upper = [
        "sd", "mi", "smp", "mts", "sma", "smk", "ma", "slb", "paud", "tk", "ra",
    ];
    if upper.contains(&kind) {
        return kind.to_uppercase();
    }
    match (lang, kind) {
        (Lang::Id, "balai_desa") => "balai desa".into(),
        (Lang::En, "balai_desa") => "village hall".into(),
        (Lang::Id, "institusi") => "institusi (panti, lapas, rumah sakit)".into(),
        (Lang::En, "institusi") => "institution (care home, prison, hospital)".into(),
        (Lang::Id, "panti") => "panti sosial".into(),
        (Lang::En, "panti") => "care home".into(),
        (Lang::Id, "lapas") => "lapas/rutan".into(),
        (Lang::En, "lapas") => "prison".into(),
        (Lang::Id, "rsj") => "rumah sakit jiwa".into(),
        (Lang::En, "rsj") => "psychiatric hospital".into(),
        (Lang::Id, "komunitas_terpencil") => "komunitas terpencil".into(),
        (Lang::En, "komunitas_terpencil") => "remote community".into(),
        (Lang::Id, "kantor") => "layanan di kantor Disdukcapil".into(),
        (Lang::En, "kantor") => "service at the Disdukcapil office".into(),
        (Lang::Id, "keramaian") => "keramaian (pasar, car free day)".into(),
        (Lang::En, "keramaian") => "crowd point (market, car-free day)".into(),
        (_, other) => other.replace('_', " "),
    }
}

pub fn indicator_label(lang: Lang, code: &str) -> &str {
    match (lang, code) {
        (Lang::Id, "ktp_el") => "perekaman KTP-el",
        (Lang::En, "ktp_el") => "KTP-el recording",
        (Lang::Id, "kia") => "KIA (kartu identitas anak)",
        (Lang::En, "kia") => "KIA (child ID card)",
        (Lang::Id, "akta_lahir") => "akta kelahiran",
        (Lang::En, "akta_lahir") => "birth certificate",
        (Lang::Id, "ikd") => "aktivasi IKD",
        (Lang::En, "ikd") => "IKD activation",
        (_, other) => other,
    }
}

/// "2 jam 31 menit" / "2 h 31 min"; "25 menit" / "25 min"; "1 jam" / "1 h".
pub fn duration(lang: Lang, secs: i64) -> String {
    let mins = (secs.max(0) + 30) / 60;
    let (h, m) = (mins / 60, mins % 60);
    match (lang, h, m) {
        (Lang::Id, 0, _) => format!("{m} menit"),
        (Lang::En, 0, _) => format!("{m} min"),
        (Lang::Id, _, 0) => format!("{h} jam"),
        (Lang::En, _, 0) => format!("{h} h"),
        (Lang::Id, _, _) => format!("{h} jam {m} menit"),
        (Lang::En, _, _) => format!("{h} h {m} min"),
    }
}

/// 1.111 (Indonesian) / 1,111 (English).
pub fn thousands(lang: Lang, n: i64) -> String {
    crate::domain::words::thousands(n, lang == Lang::En)
}

/// "1 kunjungan" / "1 visit", "3 visits".
pub(super) fn visits_count(lang: Lang, n: usize) -> String {
    match (lang, n) {
        (Lang::Id, _) => format!("{n} kunjungan"),
        (Lang::En, 1) => "1 visit".to_string(),
        (Lang::En, _) => format!("{n} visits"),
    }
}

pub(super) fn people_count(p: f64) -> i64 {
    p.round() as i64
}

pub(super) fn labels(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    let pairs: &[(&str, &str, &str)] = &[
        ("greeting", "Yth.", "Dear"),
        (
            "intro",
            "Berikut jadwal jemput bola minggu ini. Waktu dalam zona",
            "Here is this week's outreach schedule. Times are in",
        ),
        ("arrive", "Tiba", "Arrive"),
        ("service", "Layanan", "Service"),
        ("kind", "Jenis", "Kind"),
        ("address", "Alamat", "Address"),
        ("contact", "Kontak", "Contact"),
        ("people", "Perkiraan peserta", "Expected people (estimate)"),
        (
            "people_counted",
            "Peserta menurut daftar dari lokasi",
            "People on the site's own list",
        ),
        ("bring", "Bawa", "Bring"),
        ("map", "Peta", "Map"),
        ("log", "Catat hasil kunjungan", "Log this visit"),
        (
            "travel",
            "Perjalanan dari titik sebelumnya",
            "Travel from the previous stop",
        ),
        ("depart", "Berangkat dari", "Leave from"),
        ("back", "Kembali ke markas pukul", "Back at base by"),
        (
            "no_contact",
            "belum ada — tanyakan ke koordinator",
            "none yet — ask the coordinator",
        ),
        ("day_total", "Total hari ini", "Day total"),
        ("week_total", "Total minggu ini", "Week total"),
        ("visits", "kunjungan", "visits"),
        ("persons", "orang", "people"),
        ("on_road", "di jalan", "on the road"),
        (
            "no_visits",
            "Tidak ada kunjungan terjadwal untuk tim Anda minggu ini.",
            "No visits are scheduled for your team this week.",
        ),
        (
            "changes",
            "Perubahan dibanding jadwal sebelumnya",
            "Changes from the previous schedule",
        ),
        (
            "full",
            "Jadwal lengkap yang berlaku",
            "The full schedule now in force",
        ),
        (
            "attachment",
            "Lampiran jadwal.ics dapat dibuka di kalender ponsel.",
            "The attached jadwal.ics opens in your phone's calendar.",
        ),
        (
            "privacy",
            "Email ini tidak memuat NIK atau data pribadi penduduk.",
            "This email carries no NIK or other personal data.",
        ),
        (
            "footer",
            "Dikirim oleh jemput untuk Disdukcapil",
            "Sent by jemput for Disdukcapil",
        ),
        ("version", "versi rencana", "plan version"),
    ];
    pairs
        .iter()
        .map(|(k, id, en)| (*k, if lang == Lang::Id { *id } else { *en }))
        .collect()
}
