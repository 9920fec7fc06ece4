//! Schedule emails per second from the outbox to a local SMTP sink.
//!
//!   cargo bench --bench email_throughput                       (SQLite, 1,000 emails, 5 runs)
//!   JEMPUT_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench email_throughput
//!
//! Each run queues 1,000 rendered schedule emails (text, HTML and an ICS of 12 visits, about
//! 25 KB each), then one worker (config: outbox.concurrency sends at a time over a pool of
//! email.smtp.pool_max SMTP connections) drains them into the scripted sink used by the tests.
//! Prints the median and the spread.

#[path = "../tests/api/support/fake_smtp.rs"]
mod fake_smtp;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use jemput::config::{Environment, MailTransport, Settings};
use jemput::email::{self, Lang, TeamDay, TeamWeek, Visit};
use jemput::store::outbox::{self, NewMessage};
use sea_orm::ConnectionTrait;

const N: usize = 1000;
const RUNS: usize = 5;

fn week() -> TeamWeek {
    let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let days = (0..4)
        .map(|d| TeamDay {
            date: monday + chrono::Duration::days(d),
            base_name: "Dispendukcapil Jember".into(),
            back_at: "14:10".into(),
            break_at: Some(("12:00".into(), "13:00".into())),
            travel_s: 3600,
            visits: (0..3)
                .map(|i| Visit {
                    site_id: d * 10 + i,
                    part: 1,
                    parts: 1,
                    name: format!("SMAN {} Jember", d * 10 + i),
                    kind: "sma".into(),
                    address: "Jl. Letjen Panjaitan No. 55, Sumbersari, Jember".into(),
                    kecamatan: Some("Sumbersari".into()),
                    contact_name: Some("Bu Sri".into()),
                    contact_phone: Some("0812-0000-0000".into()),
                    lat: -8.17,
                    lon: 113.7,
                    arrive: "07:10".into(),
                    start: "07:30".into(),
                    end: "09:30".into(),
                    travel_from_prev_s: 1200,
                    people: BTreeMap::from([("ktp_el".into(), 120.0), ("ikd".into(), 40.0)]),
                    log_url: Some(format!(
                        "https://jemput.example.go.id/v/{}.2.1764892800.c2lnbmF0dXJl",
                        d * 10 + i
                    )),
                    cards: Default::default(),
                    task: String::new(),
                    estimated: true,
                    synthetic: false,
                    approximate_location: false,
                })
                .collect(),
        })
        .collect();
    TeamWeek {
        region_code: "35.09".into(),
        region_name: "Kabupaten Jember".into(),
        time_zone: "Asia/Jakarta".into(),
        week: "2026-W48".into(),
        plan_version: 1,
        team_name: "Tim 1".into(),
        kits: 3,
        prints_cards: true,
        days,
        changes: Vec::new(),
        uid_domain: "bench.jemput.invalid".into(),
        coordinator: None,
    }
}

async fn database(
    base: &mut Settings,
    run: usize,
    dir: &std::path::Path,
) -> (sea_orm::DatabaseConnection, Option<(String, String)>) {
    match std::env::var("JEMPUT_BENCH_DATABASE_URL") {
        Ok(admin_url) => {
            let admin = sea_orm::Database::connect(&admin_url)
                .await
                .expect("postgres");
            let name = format!("jemput_bench_{}_{run}", std::process::id());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
            base.database.url = url;
            let db = jemput::app::connect_and_migrate(base).await.unwrap();
            (db, Some((admin_url, name)))
        }
        Err(_) => {
            base.database.url =
                format!("sqlite://{}", dir.join(format!("bench{run}.db")).display());
            (jemput::app::connect_and_migrate(base).await.unwrap(), None)
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut settings = Settings::load_from(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
        Environment::Test,
    )
    .expect("test configuration");
    let sink = fake_smtp::FakeSmtp::start().await;
    settings.email.transport = MailTransport::Smtp;
    settings.email.smtp.port = sink.port();
    settings.email.smtp.timeout_ms = 10_000;
    let r = email::render_schedule(&week(), Lang::Id, chrono::Utc::now());
    let size = r.text.len() + r.html.len() + r.ics.as_ref().map_or(0, String::len);
    let dir = tempfile::tempdir().unwrap();
    let mut rates = Vec::new();
    for run in 0..RUNS {
        let (db, pg) = database(&mut settings, run, dir.path()).await;
        let messages: Vec<NewMessage> = (0..N)
            .map(|i| NewMessage {
                dedupe_key: format!("bench:{run}:{i}"),
                kind: "schedule".into(),
                plan_id: None,
                team_id: None,
                region_code: "35.09".into(),
                recipient: format!("anggota{i}@tim.example.org"),
                language: "id".into(),
                subject: r.subject.clone(),
                body_text: r.text.clone(),
                body_html: r.html.clone(),
                ics: r.ics.clone(),
                ..Default::default()
            })
            .collect();
        let txn = jemput::store::begin_write(&db).await.unwrap();
        outbox::enqueue(
            &txn,
            &messages,
            5,
            "bench.jemput.invalid",
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let before = sink.received().len();
        let worker = jemput::mail::outbox::Worker::new(
            db.clone(),
            &settings,
            Arc::new(tokio::sync::Notify::new()),
        )
        .unwrap();
        let start = Instant::now();
        let tally = worker.drain().await.unwrap();
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(tally.sent, N, "{tally:?}");
        assert_eq!(sink.received().len() - before, N);
        let rate = N as f64 / secs;
        eprintln!("run {}: {N} emails in {secs:.2} s = {rate:.0}/s", run + 1);
        rates.push(rate);
        db.close().await.ok();
        if let Some((admin_url, name)) = pg {
            let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
        }
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "email_throughput ({}): {N} schedule emails of {:.0} KB, concurrency {}, pool {}: median {:.0}/s (min {:.0}, max {:.0}) over {RUNS} runs",
        if std::env::var("JEMPUT_BENCH_DATABASE_URL").is_ok() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        size as f64 / 1024.0,
        settings.outbox.concurrency,
        settings.email.smtp.pool_max,
        rates[RUNS / 2],
        rates[0],
        rates[RUNS - 1]
    );
}
