//! The offices' programmes in the demo week (issue 17): the office's weekend service days staffed
//! by the teams that work weekends, the car-free day, penduduk rentan, and blank cards within
//! stock and printer capacity — each in the teams' emails in its own words. Events and stock
//! import all-or-nothing.

use std::collections::BTreeMap;

use jemput::import::{Dataset, NoProgress};
use jemput::services::importing::{self, Options};

use crate::helpers::{TestApp, dump};
use crate::on_both_backends;

const VULNERABLE: [&str; 6] = [
    "slb",
    "panti",
    "lapas",
    "rsj",
    "komunitas_terpencil",
    "institusi",
];

pub async fn the_demo_week_serves_the_offices_programmes(app: &TestApp) {
    let report = app.run_demo().await;
    let plan = &report.plan;
    let teams = jemput::store::plans::teams_of(&app.db, "35.09")
        .await
        .unwrap();
    let hours = |team: i64, day: &str| {
        let t = teams.iter().find(|t| t.id == team).unwrap();
        let d: chrono::NaiveDate = day.parse().unwrap();
        let h = jemput::domain::WeeklyHours::parse(&t.working_hours).unwrap();
        !h.intervals(chrono::Datelike::weekday(&d).num_days_from_monday() as usize)
            .is_empty()
    };
    // (kind, day, team) of every visit.
    let visits: Vec<(String, String, i64)> = plan
        .routes
        .iter()
        .flat_map(|r| {
            r.stops
                .iter()
                .map(move |s| (s.kind.clone(), r.day.clone(), r.team_id))
        })
        .collect();
    let office: Vec<_> = visits.iter().filter(|v| v.0 == "kantor").collect();
    let days: Vec<&str> = office.iter().map(|v| v.1.as_str()).collect();
    assert!(
        days.contains(&"2026-12-12") && days.contains(&"2026-12-13"),
        "{office:?}"
    );
    assert!(
        office.iter().all(|v| hours(v.2, &v.1)),
        "weekend teams staff the office"
    );
    let staffed = plan.stats["answers"].as_array().unwrap();
    assert_eq!(
        staffed.iter().filter(|a| a["staffing"].is_string()).count(),
        2,
        "{staffed:?}"
    );
    let crowd: Vec<_> = visits.iter().filter(|v| v.0 == "keramaian").collect();
    assert!(!crowd.is_empty(), "the car-free day is planned");
    assert!(
        crowd
            .iter()
            .all(|v| v.1 == "2026-12-13" && hours(v.2, &v.1))
    );
    let vulnerable = visits
        .iter()
        .filter(|v| VULNERABLE.contains(&v.0.as_str()))
        .count();
    assert!(vulnerable >= 1, "{visits:?}");

    // PAUD pairs: the drop-off and, two working days later, the pick-up, by one team.
    let task_of = |task: &str| -> Vec<(i64, String, i64)> {
        plan.routes
            .iter()
            .flat_map(|r| {
                r.stops
                    .iter()
                    .filter(move |s| s.task == task)
                    .map(move |s| (s.site_id, r.day.clone(), r.team_id))
            })
            .collect()
    };
    let (drops, picks) = (task_of("antar"), task_of("ambil"));
    assert!(!drops.is_empty(), "at least one PAUD pair");
    assert_eq!(drops.len(), picks.len());
    for (site, day, team) in &drops {
        let (_, pick_day, pick_team) = picks.iter().find(|p| p.0 == *site).unwrap();
        assert_eq!(pick_team, team, "one team does both");
        let (d0, d1): (chrono::NaiveDate, chrono::NaiveDate) =
            (day.parse().unwrap(), pick_day.parse().unwrap());
        let worked = d0
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= d1)
            .filter(|d| hours(*team, &d.to_string()))
            .count();
        assert_eq!(
            worked, 2,
            "two working days of the team between {day} and {pick_day}"
        );
    }

    // Cards: within each team-day's printers and the week's stock, as stored and as emailed.
    let cards = &plan.stats["cards"];
    let stock = &cards["stock"];
    assert_eq!(
        (stock["ktp_el"].as_u64(), stock["kia"].as_u64()),
        (Some(2000), Some(1500))
    );
    let mut per_team_day: BTreeMap<(i64, &str), u32> = BTreeMap::new();
    let mut total: BTreeMap<&str, u32> = BTreeMap::new();
    for r in &plan.routes {
        for s in &r.stops {
            for (k, n) in &s.cards {
                *per_team_day.entry((r.team_id, r.day.as_str())).or_default() += n;
                *total.entry(k.as_str()).or_default() += n;
                if k == "kia" {
                    assert!(
                        (s.people.get("kia").copied().unwrap_or(0.0).round() as u32) <= *n,
                        "a KIA promise is backed by its cards"
                    );
                }
            }
        }
    }
    for ((team, _), n) in &per_team_day {
        let t = teams.iter().find(|t| t.id == *team).unwrap();
        assert!(
            *n <= t.printers.unwrap_or(1).max(1) as u32 * 200,
            "{team}: {n}"
        );
    }
    assert!(total.get("kia").copied().unwrap_or(0) <= 1500);
    assert!(total.get("ktp_el").copied().unwrap_or(0) <= 2000);
    assert!(total.get("kia").copied().unwrap_or(0) > 0);

    // Each programme in the emails of the team that serves it, in its own words.
    let rows = jemput::store::outbox::list(&app.db, None, None, Some(plan.id), 10_000)
        .await
        .unwrap();
    let body_of = |team: i64| {
        rows.iter()
            .find(|r| r.team_id == Some(team) && r.language == "id")
            .map(|r| r.body_text.clone())
            .unwrap_or_default()
    };
    let expect = |kinds: &[&str], words: &str| {
        let team = visits
            .iter()
            .find(|v| kinds.contains(&v.0.as_str()))
            .unwrap()
            .2;
        let body = body_of(team);
        assert!(body.contains(words), "{words:?} in:\n{body}");
    };
    expect(&["kantor"], "layanan di kantor: warga datang sendiri");
    expect(&["keramaian"], "stan di keramaian: tenda, meja");
    let vulnerable_kind = visits
        .iter()
        .find(|v| VULNERABLE.contains(&v.0.as_str()))
        .unwrap()
        .0
        .clone();
    let words = if vulnerable_kind == "komunitas_terpencil" {
        "komunitas terpencil: kepala dusun"
    } else {
        "penduduk rentan:"
    };
    expect(&[vulnerable_kind.as_str()], words);
    let pair_team = drops[0].2;
    let body = body_of(pair_team);
    assert!(
        body.contains("tahap 1 dari 2: antar formulir KIA"),
        "{body}"
    );
    assert!(
        body.contains("tahap 2 dari 2: ambil berkas, proses KIA"),
        "{body}"
    );
    assert!(
        body.contains("formulir permohonan KIA dan daftar berkas untuk guru"),
        "{body}"
    );
    // The PAUD with an email hears of both visits and what the teachers collect.
    let told = rows.iter().find(|r| {
        r.site_id.is_some_and(|s| drops.iter().any(|d| d.0 == s))
            && r.body_text.contains("antar formulir KIA")
    });
    let told = told.expect("a PAUD of a pair gets its notice");
    assert!(
        told.body_text
            .contains("ambil berkas yang terkumpul dan proses KIA")
    );
    assert!(
        told.body_text.contains("guru mengumpulkan dari orang tua"),
        "{}",
        told.body_text
    );
    // A day that prints cards says how many blanks to take.
    let printing = per_team_day.keys().next().unwrap().0;
    assert!(body_of(printing).contains("Blangko dibawa hari ini: "));
}

pub async fn events_and_stock_import_all_or_nothing(app: &TestApp) {
    app.run_demo().await;
    let import = |dataset, name: &'static str, csv: &'static str| async move {
        importing::import_bytes(
            &app.db,
            dataset,
            name,
            csv.as_bytes(),
            false,
            &Options::default(),
            &NoProgress,
        )
        .await
    };
    let before = dump(&app.db).await;
    let bad_events = "external_id,name,region_code,lat,lon,date,start,end,expected_ikd\n\
        PASAR-1,Pasar Tanjung,35.09.19.1006,-8.17,113.70,2026-12-12,07:00,11:00,50\n\
        PASAR-2,Pasar Kalisat,35.99,-8.12,113.80,2026-12-12,07:00,11:00,50\n";
    let err = import(Dataset::Events, "acara.csv", bad_events)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("acara.csv"), "{err}");
    let bad_stock = "region_code,as_of,blangko_ktp_el,blangko_kia\n35.09,2026-12-01,100,-5\n";
    assert!(import(Dataset::Stock, "stok.csv", bad_stock).await.is_err());
    assert_eq!(dump(&app.db).await, before, "nothing half-written");

    let good = "external_id,name,region_code,lat,lon,date,start,end,expected_ikd\n\
        PASAR-1,Pasar Tanjung,35.09.19.1006,-8.17,113.70,2026-12-12,07:00,11:00,50\n";
    let s = import(Dataset::Events, "acara.csv", good).await.unwrap();
    assert_eq!(s.inserted, 1);
    let again = import(Dataset::Events, "acara.csv", good).await.unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 1));
    let stock = "region_code,as_of,blangko_ktp_el,blangko_kia\n35.09,2026-12-01,100,50\n";
    assert_eq!(
        import(Dataset::Stock, "stok.csv", stock)
            .await
            .unwrap()
            .inserted,
        1
    );
    let newest = jemput::store::stock::stock_on(
        &app.db,
        "35.09",
        chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        newest.map(|s| (s.1, s.2)),
        Some((100, 50)),
        "the newest stock counts"
    );
}

on_both_backends!(
    the_demo_week_serves_the_offices_programmes,
    events_and_stock_import_all_or_nothing
);
