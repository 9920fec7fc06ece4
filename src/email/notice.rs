//! The notice to a place a team will visit (a school head, a PAUD head, a kepala desa, the head
//! of a panti or lapas): when the team comes, what to prepare for each service, and two links to
//! answer "Bisa" or "Tidak bisa, usul tanggal lain". A later version of the plan that moves or
//! drops the visit sends a notice of the change.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use minijinja::context;
use serde::Serialize;

use super::words::{
    date_range, hhmm, indicator_label, kind_label, long_date, people_count, thousands,
};
use super::{Lang, Rendered};

/// One day of the visit as the place sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeVisit {
    pub date: NaiveDate,
    /// HH:MM local.
    pub start: String,
    pub end: String,
    /// `antar` (a PAUD pair's drop-off), `ambil` (its pick-up) or empty.
    #[serde(default)]
    pub task: String,
}

/// Why this notice is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum NoticeReason {
    /// The first notice of this week's visit.
    First,
    /// The visit moved (or its hours changed): the days it had before.
    Changed(Vec<NoticeVisit>),
    /// The visit is no longer planned this week: the days it had.
    Cancelled(Vec<NoticeVisit>),
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteNotice {
    pub site_name: String,
    /// Site kind code (`sma`, `paud`, `balai_desa`, `lapas`, …).
    pub kind: String,
    pub contact_name: Option<String>,
    pub region_name: String,
    pub team_name: String,
    /// In date order; empty for a cancellation.
    pub visits: Vec<NoticeVisit>,
    /// Expected people per indicator.
    pub people: BTreeMap<String, f64>,
    /// The team prints cards on site: it needs a cool room for the printer.
    pub printer: bool,
    pub reason: NoticeReason,
    /// The signed page to answer on (none for a cancellation).
    pub answer_url: Option<String>,
    /// Working days between the notice and the first visit day, when fewer than `lead_days`.
    pub short_notice: Option<u32>,
    pub lead_days: u32,
    pub coordinator: Option<(String, String)>,
}

/// What the place prepares for one service, in the reader's language.
pub fn preparation(lang: Lang, kind: &str, indicator: &str) -> &'static str {
    let school = matches!(kind, "sma" | "smk" | "ma" | "smp" | "mts" | "slb");
    let early = matches!(kind, "paud" | "tk" | "ra" | "sd" | "mi");
    let residents = matches!(kind, "panti" | "lapas" | "rsj" | "komunitas_terpencil");
    match (lang, indicator) {
        (Lang::Id, "ktp_el") if school => {
            "daftar siswa yang sudah atau hampir berusia 17 tahun dan belum rekam KTP-el (nama, NIK, tanggal lahir); siswa membawa fotokopi KK"
        }
        (Lang::En, "ktp_el") if school => {
            "a list of students aged (almost) 17 not yet recorded for KTP-el (name, NIK, date of birth); students bring a copy of their KK"
        }
        (Lang::Id, "ktp_el") if residents => {
            "daftar penghuni/warga berusia 17 tahun ke atas yang belum rekam KTP-el, dengan NIK atau KK bila ada; pendamping untuk yang sakit atau lanjut usia"
        }
        (Lang::En, "ktp_el") if residents => {
            "a list of residents aged 17 or over without a KTP-el recording, with NIK or KK if any; a companion for the sick or elderly"
        }
        (Lang::Id, "ktp_el") => {
            "warga berusia 17 tahun ke atas yang belum rekam KTP-el diberi tahu, membawa KK asli atau fotokopi"
        }
        (Lang::En, "ktp_el") => {
            "residents aged 17 or over without a KTP-el recording are told to come with their KK"
        }
        (Lang::Id, "kia") if early => {
            "guru mengumpulkan dari orang tua: fotokopi KK, fotokopi akta kelahiran anak, dan pas foto berwarna 2×3 untuk anak umur 5 tahun ke atas; daftar anak per kelas"
        }
        (Lang::En, "kia") if early => {
            "teachers collect from the parents: a copy of the KK, a copy of the child's birth certificate and a 2×3 colour photo for children aged 5 or over; a list of children per class"
        }
        (Lang::Id, "kia") => {
            "fotokopi KK dan akta kelahiran anak; pas foto 2×3 untuk anak umur 5 tahun ke atas"
        }
        (Lang::En, "kia") => {
            "copies of the KK and the child's birth certificate; a 2×3 photo for children aged 5 or over"
        }
        (Lang::Id, "akta_lahir") => {
            "surat keterangan lahir (bidan/rumah sakit), KK dan KTP-el orang tua, buku nikah atau akta perkawinan, dua saksi bila tidak ada surat lahir"
        }
        (Lang::En, "akta_lahir") => {
            "the birth notice (midwife/hospital), the parents' KK and KTP-el, the marriage book or certificate, two witnesses if there is no birth notice"
        }
        (Lang::Id, "ikd") => {
            "peserta membawa KTP-el dan ponsel Android/iPhone dengan email aktif dan kuota data"
        }
        (Lang::En, "ikd") => {
            "people bring their KTP-el and an Android phone or iPhone with a working email and mobile data"
        }
        _ => "",
    }
}

fn visit_line(lang: Lang, v: &NoticeVisit) -> String {
    let what = match (lang, v.task.as_str()) {
        (Lang::Id, "antar") => {
            " — antar formulir KIA dan daftar berkas; guru lalu mengumpulkan berkas dari orang tua"
        }
        (Lang::En, "antar") => {
            " — KIA forms and the list of documents; the teachers then collect them from the parents"
        }
        (Lang::Id, "ambil") => " — ambil berkas yang terkumpul dan proses KIA",
        (Lang::En, "ambil") => " — pick-up of the documents gathered, KIA processed",
        _ => "",
    };
    format!(
        "{}, {}–{}{what}",
        long_date(lang, v.date),
        hhmm(&v.start),
        hhmm(&v.end)
    )
}

/// The notice for one site, in one language.
pub fn render_notice(n: &SiteNotice, lang: Lang) -> Rendered {
    let id = lang == Lang::Id;
    let days: Vec<NaiveDate> = n.visits.iter().map(|v| v.date).collect();
    let when = match (days.first(), days.last()) {
        (Some(f), Some(l)) => date_range(lang, *f, *l),
        _ => String::new(),
    };
    let (subject, before) = match (&n.reason, id) {
        (NoticeReason::First, true) => (
            format!(
                "Pemberitahuan jemput bola Disdukcapil di {} — {when}",
                n.site_name
            ),
            vec![],
        ),
        (NoticeReason::First, false) => (
            format!("Disdukcapil outreach visit to {} — {when}", n.site_name),
            vec![],
        ),
        (NoticeReason::Changed(b), true) => (
            format!("Perubahan jadwal jemput bola di {} — {when}", n.site_name),
            b.clone(),
        ),
        (NoticeReason::Changed(b), false) => (
            format!("Changed outreach visit to {} — {when}", n.site_name),
            b.clone(),
        ),
        (NoticeReason::Cancelled(b), true) => (
            format!("Pembatalan jemput bola di {}", n.site_name),
            b.clone(),
        ),
        (NoticeReason::Cancelled(b), false) => (
            format!("Outreach visit to {} cancelled", n.site_name),
            b.clone(),
        ),
    };
    let services: Vec<BTreeMap<&str, String>> = n
        .people
        .iter()
        .filter(|(_, p)| people_count(**p) > 0)
        .map(|(code, p)| {
            BTreeMap::from([
                ("label", indicator_label(lang, code).to_string()),
                ("people", thousands(lang, people_count(*p))),
                ("prepare", preparation(lang, &n.kind, code).to_string()),
            ])
        })
        .collect();
    let room = match (id, n.printer) {
        (true, true) => {
            "ruangan dengan meja dan kursi, stopkontak listrik, dan ruangan ber-AC untuk printer kartu (printer cepat panas)"
        }
        (true, false) => {
            "ruangan dengan meja dan kursi, stopkontak listrik, dan sinyal internet bila ada"
        }
        (false, true) => {
            "a room with tables and chairs, power sockets, and an air-conditioned room for the card printer (it overheats)"
        }
        (false, false) => {
            "a room with tables and chairs, power sockets, and internet signal if available"
        }
    };
    let ctx = context! {
        lang => lang.code(),
        subject => &subject,
        greeting => n.contact_name.clone().unwrap_or_else(|| if id { format!("Kepala {}", n.site_name) } else { format!("Head of {}", n.site_name) }),
        site => &n.site_name,
        kind => kind_label(lang, &n.kind),
        region => &n.region_name,
        team => &n.team_name,
        first => matches!(n.reason, NoticeReason::First),
        cancelled => matches!(n.reason, NoticeReason::Cancelled(_)),
        visits => n.visits.iter().map(|v| visit_line(lang, v)).collect::<Vec<_>>(),
        before => before.iter().map(|v| visit_line(lang, v)).collect::<Vec<_>>(),
        services => services,
        room => room,
        answer_url => &n.answer_url,
        short_notice => n.short_notice,
        lead_days => n.lead_days,
        coordinator => &n.coordinator,
    };
    let env = super::environment();
    let render = |name: &str| {
        env.get_template(name)
            .and_then(|t| t.render(&ctx))
            .expect("the notice templates render")
    };
    Rendered {
        text: render("notice.txt"),
        html: render("notice.html"),
        ics: None,
        subject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(reason: NoticeReason) -> SiteNotice {
        SiteNotice {
            site_name: "Balai Desa Sukorejo".into(),
            kind: "balai_desa".into(),
            contact_name: Some("Bapak Hadi".into()),
            region_name: "Kabupaten Jember".into(),
            team_name: "Tim 3".into(),
            visits: vec![NoticeVisit {
                date: NaiveDate::from_ymd_opt(2026, 12, 10).unwrap(),
                start: "08:00".into(),
                end: "11:00".into(),
                task: String::new(),
            }],
            people: BTreeMap::from([
                ("ktp_el".into(), 12.4),
                ("ikd".into(), 30.0),
                ("kia".into(), 0.2),
            ]),
            printer: false,
            reason,
            answer_url: Some("https://jemput.example/n/1.2.3.abc".into()),
            short_notice: None,
            lead_days: 3,
            coordinator: Some(("Koordinator".into(), "0331-000000".into())),
        }
    }

    #[test]
    fn a_first_notice_says_when_what_to_prepare_and_how_to_answer() {
        let r = render_notice(&notice(NoticeReason::First), Lang::Id);
        assert_eq!(
            r.subject,
            "Pemberitahuan jemput bola Disdukcapil di Balai Desa Sukorejo — 10 Desember 2026"
        );
        for part in [
            "Yth. Bapak Hadi",
            "Kamis, 10 Desember 2026, 08:00–11:00",
            "perekaman KTP-el (±12 orang): warga berusia 17 tahun ke atas",
            "aktivasi IKD (±30 orang): peserta membawa KTP-el dan ponsel",
            "stopkontak listrik",
            "https://jemput.example/n/1.2.3.abc",
            "Koordinator, 0331-000000",
        ] {
            assert!(r.text.contains(part), "{part:?} in:\n{}", r.text);
        }
        // Nobody is promised a service below one person.
        assert!(!r.text.contains("KIA"), "{}", r.text);
        assert!(
            r.html
                .contains("Jawab: Bisa / Tidak bisa, usul tanggal lain")
        );
        let en = render_notice(&notice(NoticeReason::First), Lang::En);
        assert!(
            en.text.contains("Thursday, 10 December 2026"),
            "{}",
            en.text
        );
    }

    #[test]
    fn a_change_names_the_old_day_and_a_cancellation_has_no_answer_link() {
        let before = vec![NoticeVisit {
            date: NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
            start: "08:00".into(),
            end: "11:00".into(),
            task: String::new(),
        }];
        let r = render_notice(&notice(NoticeReason::Changed(before.clone())), Lang::Id);
        assert!(
            r.subject
                .starts_with("Perubahan jadwal jemput bola di Balai Desa Sukorejo")
        );
        assert!(
            r.text
                .contains("Sebelumnya: Selasa, 8 Desember 2026, 08:00–11:00. Sekarang:"),
            "{}",
            r.text
        );
        let mut gone = notice(NoticeReason::Cancelled(before));
        gone.visits.clear();
        gone.answer_url = None;
        let r = render_notice(&gone, Lang::Id);
        assert_eq!(r.subject, "Pembatalan jemput bola di Balai Desa Sukorejo");
        assert!(r.text.contains("dibatalkan minggu ini"), "{}", r.text);
        assert!(!r.text.contains("/n/"));
    }

    #[test]
    fn a_short_notice_says_so() {
        let mut n = notice(NoticeReason::First);
        n.short_notice = Some(1);
        let r = render_notice(&n, Lang::Id);
        assert!(
            r.text
                .contains("hanya 1 hari kerja sebelumnya (biasanya 3)"),
            "{}",
            r.text
        );
    }
}
