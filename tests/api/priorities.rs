//! Priorities end to end: import files, ask the API, get the hand-computed answer.

use jemput::import::{Dataset, NoProgress};
use jemput::services::importing::{self, Options};

use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::on_both_backends;

const REGIONS: &str = "kode,nama,lat,lng\n35,Jawa Timur,-7.72,112.73\n35.09,Kabupaten Jember,-8.17,113.70\n\
35.09.01,Jombang,-8.247,113.336\n35.09.02,Kencong,-8.283,113.370\n35.09.01.2001,Keting,-8.254,113.351\n\
35.09.02.2001,Kencong,-8.283,113.371\n";
const TARGETS: &str =
    "indicator,year,scope,percent\nktp_el,2026,nasional,99.4\nkia,2026,nasional,60\n";
const COVERAGE: &str = "region_code,indicator,eligible,holders,as_of,source\n\
35.09.01,ktp_el,100000,98600,2026-06-30,uji\n35.09.02,ktp_el,50000,49800,2026-06-30,uji\n\
35.09.02,kia,10000,5000,2026-06-30,uji\n";
// The first SMA sent its own list: 84 students not yet recorded on 1 July 2026.
const SITES: &str = "kind,external_id,name,address,region_code,lat,lon,coord_quality,eligible_ktp_el,eligible_ikd,eligible_kia,eligible_akta_lahir,unrecorded_ktp_el,counts_as_of,synthetic\n\
sma,20523843,SMAN 1 Jombang,Jl. Uji 1,35.09.01.2001,-8.25,113.35,exact,167,167,,,84,2026-07-01,false\n\
paud,99000001,KB Melati Kencong,Desa Kencong,35.09.02.2001,-8.28,113.37,synthetic,,,40,40,,,true\n\
sma,20523999,SMA Kencong,Jl. Uji 2,35.09.02.2001,-8.28,113.37,exact,100,100,,,,,false\n";
// A visit to the SMA 120 days before the Monday of 2026-W48, after the coverage snapshot.
const VISITS: &str = "external_id,visited_on,source,delivered_ktp_el\n20523843,2026-07-26,uji,20\n";

async fn load(app: &TestApp) {
    for (dataset, name, csv) in [
        (Dataset::Regions, "r.csv", REGIONS),
        (Dataset::Targets, "t.csv", TARGETS),
        (Dataset::Coverage, "c.csv", COVERAGE),
        (Dataset::Sites, "s.csv", SITES),
        (Dataset::Visits, "v.csv", VISITS),
    ] {
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
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

pub async fn the_api_answers_a_hand_computed_ranking(app: &TestApp) {
    load(app).await;
    let (status, body) = app
        .get("/api/v1/priorities?region=35.09&week=2026-W48&limit=10")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["week_start"], "2026-11-23");
    assert_eq!(body["sites_ranked"], 3);
    let first = &body["items"][0];
    assert_eq!(first["rank"], 1);
    assert_eq!(first["site"]["external_id"], "20523843");

    // By hand, with config/default.toml [priority]:
    //   expected people = the school's own list: 84 − 20 recorded since 1 July = 64
    //   Kabupaten Jember KTP-el (the two kecamatan): 148,400 + 20 recorded of 150,000; 99.4 %
    //   needs 149,100 → 680 people short; one person closes 10,000 / 680 basis points of it
    //   term = 64 × 10,000 / 680 = 941.17647…
    //   ikd: no coverage figure → no data, 0
    //   recency = 1 − 0.9·e^(−120/30); fairness = 1.25 (desa last visited 17 weeks ago ≥ 8)
    let recency = 1.0 - 0.9 * (-4.0f64).exp();
    let expected = 64.0 * 10_000.0 / 680.0 * recency * 1.25;
    let score = first["score"].as_f64().unwrap();
    assert!((score - expected).abs() < 1e-6, "{score} vs {expected}");
    let term = &first["factors"]["terms"][0];
    assert_eq!(term["indicator"], "ktp_el");
    assert_eq!(term["basis"], "count");
    assert_eq!(term["count"], 84);
    assert_eq!(term["delivered"], 20);
    assert_eq!(term["expected_people"], 64.0);
    assert_eq!(term["shortfall"], 680.0);
    assert!((term["value"].as_f64().unwrap() - 64.0 * 10_000.0 / 680.0).abs() < 1e-9);
    assert_eq!(first["factors"]["terms"][1]["basis"], "no_data");
    assert_eq!(first["factors"]["terms"][1]["value"], 0.0);
    assert_eq!(first["factors"]["days_since_visit"], 120);
    assert_eq!(first["factors"]["fairness"], 1.25);
    assert_eq!(first["site"]["synthetic"], false);
    assert_eq!(
        first["explanation"]["id"],
        "SMAN 1 Jombang: 64 siswa belum rekam KTP-el menurut data situs per 1 Juli 2026; \
         Kabupaten Jember kurang 680 orang (0,5 poin) untuk target KTP-el 99,4%; kunjungan terakhir 120 hari lalu."
    );
    assert_eq!(
        first["explanation"]["en"],
        "SMAN 1 Jombang: 64 students not yet recorded for KTP-el by the site's own count as of 1 July 2026; \
         Kabupaten Jember is 680 people (0.5 points) short of the 99.4% KTP-el target; last visit 120 days ago."
    );

    // The factors recombine into the score.
    let terms: f64 = first["factors"]["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["value"].as_f64().unwrap())
        .sum();
    let rebuilt = terms
        * first["factors"]["recency"].as_f64().unwrap()
        * first["factors"]["fairness"].as_f64().unwrap();
    assert!((rebuilt - score).abs() < 1e-9);

    // Kencong's SMA has no list: 100 × 0.4 % uncovered = 0.4 people, an estimate that says so.
    let items = body["items"].as_array().unwrap();
    let kencong_sma = items
        .iter()
        .find(|i| i["site"]["external_id"] == "20523999")
        .unwrap();
    assert_eq!(kencong_sma["rank"], 3);
    assert!((kencong_sma["expected_people"]["ktp_el"].as_f64().unwrap() - 0.4).abs() < 1e-9);
    let paud = items
        .iter()
        .find(|i| i["site"]["external_id"] == "99000001")
        .unwrap();
    assert_eq!(paud["rank"], 2);
    assert_eq!(paud["site"]["synthetic"], true);
    // KIA 50 % vs 60 %: 40 × 0.5 = 20 children; Jember is 1,000 short, so 10 bp each; × fairness
    // 1.25 (never visited) = 250.
    assert!(
        (paud["score"].as_f64().unwrap() - 250.0).abs() < 1e-9,
        "{}",
        paud["score"]
    );
    assert_eq!(
        paud["explanation"]["id"],
        "KB Melati Kencong (situs sintetis): perkiraan 20 anak belum punya KIA (dari cakupan Kec. Kencong per 30 Juni 2026); \
         Kabupaten Jember kurang 1.000 orang (10 poin) untuk target KIA 60%; belum pernah dikunjungi."
    );

    // One site's priority answers the same numbers, ranked within its kabupaten.
    let id = first["site"]["id"].as_i64().unwrap();
    let (status, one) = app
        .get(&format!("/api/v1/sites/{id}/priority?week=2026-W48"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (one["rank"].clone(), one["score"].clone()),
        (first["rank"].clone(), first["score"].clone())
    );

    // Kind filter and limit; the rank stays the position among all sites.
    let (_, paud_only) = app
        .get("/api/v1/priorities?region=35.09&week=2026-W48&kind=paud")
        .await;
    assert_eq!(paud_only["items"].as_array().unwrap().len(), 1);
    assert_eq!(paud_only["items"][0]["rank"], 2);
    let (_, limited) = app
        .get("/api/v1/priorities?region=35.09.02&week=2026-W48&limit=1")
        .await;
    assert_eq!(limited["items"].as_array().unwrap().len(), 1);
    assert_eq!(limited["sites_ranked"], 2);
}

pub async fn priority_requests_are_validated(app: &TestApp) {
    load(app).await;
    for (path, status) in [
        ("/api/v1/priorities?week=2026-W48", 400),
        ("/api/v1/priorities?region=35.09&week=2026-48", 400),
        ("/api/v1/priorities?region=35.09&limit=0", 400),
        ("/api/v1/priorities?region=35.09&kind=mall", 400),
        ("/api/v1/priorities?region=35.10", 404),
        ("/api/v1/sites/999999/priority", 404),
        ("/api/v1/sites/abc/priority", 404),
    ] {
        let (got, body) = app.get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body["error"]["message"].is_string(), "{path}");
    }
    // Without a week, next week is used.
    let (status, body) = app.get("/api/v1/priorities?region=35.09").await;
    assert_eq!(status, 200);
    assert!(body["week"].as_str().unwrap().contains("-W"));
}

pub async fn visits_must_name_known_sites(app: &TestApp) {
    load(app).await;
    let before = crate::helpers::dump(&app.db).await;
    let bad = "external_id,visited_on,source,delivered_kia\n99000001,2026-08-01,uji,5\n12345678,2026-08-01,uji,5\n";
    let err = importing::import_bytes(
        &app.db,
        Dataset::Visits,
        "v.csv",
        bad.as_bytes(),
        false,
        &Options::default(),
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("v.csv:3: kolom external_id"),
        "{err}"
    );
    assert_eq!(crate::helpers::dump(&app.db).await, before);
}

/// A value as a client reads it: through JSON text (serde_json's float parsing is not the exact
/// inverse of its printing in the last digit, so compare text-parsed with text-parsed).
fn as_received(value: &impl serde::Serialize) -> serde_json::Value {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

/// A ranking is computed once per (kabupaten/kota, week, data version) and then served from
/// memory — a kecamatan's request included — by each `serve` instance; a change to its inputs (a
/// visit imported here; an approved field log writes the same table) is seen by every instance at
/// once, because the version is moved by the database's triggers, not by the writer.
pub async fn a_ranking_is_reused_until_its_data_changes(app: &TestApp) {
    load(app).await;
    let here = &app.state.ranker;
    // A second `serve` on the same database.
    let other = jemput::app::ranker(&app.settings);
    let sma_expected = |body: &serde_json::Value| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["site"]["external_id"] == "20523843")
            .map(|i| i["expected_people"]["ktp_el"].as_f64().unwrap())
            .unwrap()
    };
    let (status, first) = app
        .get("/api/v1/priorities?region=35.09&week=2026-W48")
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(here.computed(), 1);
    for path in [
        "/api/v1/priorities?region=35.09&week=2026-W48&limit=1",
        "/api/v1/priorities?region=35.09.01&week=2026-W48",
        "/api/v1/priorities?region=35.09&week=2026-W48&kind=sma",
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (_, again) = app
        .get("/api/v1/priorities?region=35.09&week=2026-W48")
        .await;
    assert_eq!(again, first);
    assert_eq!(here.computed(), 1, "served from the cache");
    // Another week is another ranking.
    let (status, _) = app
        .get("/api/v1/priorities?region=35.09&week=2026-W49")
        .await;
    assert_eq!(status, 200);
    assert_eq!(here.computed(), 2);

    let region = jemput::domain::RegionCode::parse("35.09").unwrap();
    let elsewhere = other
        .rank_region(&app.db, &region, "2026-W48", &[], 20)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(as_received(&elsewhere), first);

    // 30 more students recorded at the SMA: 64 − 30 = 34 expected, on both instances.
    importing::import_bytes(
        &app.db,
        Dataset::Visits,
        "v2.csv",
        b"external_id,visited_on,source,delivered_ktp_el\n20523843,2026-08-10,uji,30\n",
        false,
        &Options::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    let (_, after) = app
        .get("/api/v1/priorities?region=35.09&week=2026-W48")
        .await;
    assert_eq!(here.computed(), 3);
    assert_eq!((sma_expected(&first), sma_expected(&after)), (64.0, 34.0));
    let elsewhere = other
        .rank_region(&app.db, &region, "2026-W48", &[], 20)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.computed(), 2);
    assert_eq!(as_received(&elsewhere), after);
}

/// Heavy work beyond its bound (every job slot taken, no room in the queue) is refused at once
/// with 503 and Retry-After, not queued without end; `/health` answers meanwhile, and so does a
/// ranking already cached. When the slots free up, the refused request succeeds.
pub async fn heavy_work_beyond_its_bound_is_refused_at_once(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.server.heavy_queue = 0;
        s.server.heavy_wait_s = 7;
    })
    .await;
    load(&app).await;
    let (status, _) = app
        .get("/api/v1/priorities?region=35.09&week=2026-W48")
        .await;
    assert_eq!(status, 200);
    // Every slot busy with a job that waits for the test's word.
    let work = app.state.ranker.work().clone();
    let mut holds = Vec::new();
    let mut releases = Vec::new();
    for _ in 0..work.jobs() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        releases.push(tx);
        let work = work.clone();
        holds.push(tokio::spawn(async move {
            work.run(move || rx.recv().ok()).await
        }));
    }
    while work.load().running < work.jobs() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    let started = std::time::Instant::now();
    let response = app
        .client
        .get(app.url("/api/v1/priorities?region=35.09&week=2026-W49"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "busy");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "refused at once, not after waiting: {:?}",
        started.elapsed()
    );
    let (status, _) = app.get("/health").await;
    assert_eq!(status, 200);
    let (status, _) = app
        .get("/api/v1/priorities?region=35.09&week=2026-W48&limit=1")
        .await;
    assert_eq!(status, 200, "a cached ranking needs no slot");

    for tx in releases {
        tx.send(()).unwrap();
    }
    for h in holds {
        h.await.unwrap().unwrap();
    }
    let (status, body) = app
        .get("/api/v1/priorities?region=35.09&week=2026-W49")
        .await;
    assert_eq!(status, 200, "{body}");
    app.teardown().await;
}

/// `/health` has its own connection: with every connection of the shared pool taken it still
/// answers at once (it waited for the pool's acquire timeout, then failed).
pub async fn health_answers_while_the_pool_is_exhausted(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.database.max_connections = 1;
        s.database.acquire_timeout_ms = 5_000;
    })
    .await;
    use sea_orm::TransactionTrait;
    let held = app.db.begin().await.unwrap();
    let started = std::time::Instant::now();
    let (status, body) = app.get("/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["database"], "ok");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    held.rollback().await.unwrap();
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_work_beyond_its_bound_is_refused_at_once_sqlite() {
    heavy_work_beyond_its_bound_is_refused_at_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_work_beyond_its_bound_is_refused_at_once_postgres() {
    heavy_work_beyond_its_bound_is_refused_at_once(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_the_pool_is_exhausted_sqlite() {
    health_answers_while_the_pool_is_exhausted(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_the_pool_is_exhausted_postgres() {
    health_answers_while_the_pool_is_exhausted(Backend::Postgres).await;
}

on_both_backends!(
    a_ranking_is_reused_until_its_data_changes,
    the_api_answers_a_hand_computed_ranking,
    priority_requests_are_validated,
    visits_must_name_known_sites,
);
