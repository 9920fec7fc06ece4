//! Weekly plans from the database: the Jember demo plan makes sense, and the API validates.

use chrono::Datelike;
use geo::{Contains, Coord, LineString, MultiPolygon, Point, Polygon};
use jemput::domain::WeeklyHours;

use crate::helpers::{Seed, TestApp};
use crate::on_both_backends;

pub fn multipolygon(geojson: &serde_json::Value) -> MultiPolygon<f64> {
    let polys = geojson["coordinates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|poly| {
            let rings: Vec<LineString<f64>> = poly
                .as_array()
                .unwrap()
                .iter()
                .map(|ring| {
                    ring.as_array()
                        .unwrap()
                        .iter()
                        .map(|p| Coord {
                            x: p[0].as_f64().unwrap(),
                            y: p[1].as_f64().unwrap(),
                        })
                        .collect()
                })
                .collect();
            Polygon::new(rings[0].clone(), rings[1..].to_vec())
        });
    MultiPolygon(polys.collect())
}

pub fn minutes(hm: &str) -> u16 {
    let (h, m) = hm.split_once(':').unwrap();
    h.parse::<u16>().unwrap() * 60 + m[..2].parse::<u16>().unwrap()
}

const SCHOOLS: [&str; 8] = ["sd", "mi", "smp", "mts", "sma", "smk", "ma", "slb"];

pub async fn the_jember_demo_plan_makes_sense(app: &TestApp) {
    let report = app.run_demo().await;
    let plan = &report.plan;
    assert!(!plan.routes.is_empty(), "the demo plans some visits");
    assert!(plan.totals.priority_served > 0.0);
    assert!(plan.totals.priority_served <= plan.totals.upper_bound + 1e-6);

    let (_, kab) = app.get("/api/v1/regions/35.09?boundary=true").await;
    let jember = multipolygon(&kab["boundary"]);
    let (_, teams) = app.get("/api/v1/teams").await;
    let settings = &app.settings;
    let mut seen = std::collections::HashSet::new();
    for route in &plan.routes {
        // No route leaves the kabupaten: the base and every stop lie inside Jember's boundary.
        assert!(
            jember.contains(&Point::new(route.base.lon, route.base.lat)),
            "{} base outside",
            route.team
        );
        let team = teams["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == route.team_id)
            .unwrap();
        let hours = WeeklyHours::parse(team["working_hours"].as_str().unwrap()).unwrap();
        let day: chrono::NaiveDate = route.day.parse().unwrap();
        let wd = day.weekday().num_days_from_monday() as usize;
        let (day_start, mut day_end) = (
            hours.intervals(wd)[0].0,
            hours.intervals(wd).last().unwrap().1,
        );
        if wd == 4 {
            day_end = day_end.min(minutes(&settings.planner.friday_end));
        }
        // Every team-day ends at its base on time.
        assert!(
            minutes(&route.back_at) <= day_end,
            "{} {} back at {}",
            route.team,
            route.day,
            route.back_at
        );
        for stop in &route.stops {
            assert!(
                jember.contains(&Point::new(stop.lon, stop.lat)),
                "{} outside Jember",
                stop.name
            );
            assert!(
                seen.insert((stop.site_id, stop.part)),
                "{} planned twice",
                stop.name
            );
            assert!(minutes(&stop.start) >= day_start && minutes(&stop.end) <= day_end);
            // School visits fall in school hours.
            if SCHOOLS.contains(&stop.kind.as_str()) {
                // The site's own hours, or its kind's default.
                use sea_orm::EntityTrait;
                let site = jemput::store::entity::sites::Entity::find_by_id(stop.site_id)
                    .one(&app.db)
                    .await
                    .unwrap()
                    .unwrap();
                let own = (!site.opening_hours.is_empty()).then_some(site.opening_hours.clone());
                let school = WeeklyHours::parse(
                    &own.unwrap_or_else(|| settings.planner.default_hours[&stop.kind].clone()),
                )
                .unwrap();
                let fits = school
                    .intervals(wd)
                    .iter()
                    .any(|(o, c)| minutes(&stop.start) >= *o && minutes(&stop.end) <= *c);
                assert!(
                    fits,
                    "{} {} {}-{} outside school hours",
                    stop.name, route.day, stop.start, stop.end
                );
            }
        }
    }
    assert_eq!(
        plan.unscheduled.len(),
        20,
        "the top 20 unscheduled sites get a reason"
    );
    assert!(
        plan.unscheduled
            .iter()
            .all(|u| !u.text_id.is_empty() && !u.text_en.is_empty())
    );

    let (status, body) = app.get(&format!("/api/v1/plans/{}", plan.id)).await;
    assert_eq!(status, 200);
    assert_eq!(body["routes"].as_array().unwrap().len(), plan.routes.len());
    let (status, geo) = app.get(&format!("/api/v1/plans/{}.geojson", plan.id)).await;
    assert_eq!(status, 200);
    assert_eq!(geo["type"], "FeatureCollection");
    let lines = geo["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["geometry"]["type"] == "LineString")
        .count();
    assert_eq!(lines, plan.routes.len());
}

pub async fn plan_requests_are_validated(app: &TestApp) {
    for (body, status) in [
        (serde_json::json!({"region": "35.9"}), 400),
        (serde_json::json!({"region": "35.10"}), 404),
        (serde_json::json!({"region": "35.09", "week": "next"}), 400),
        // One spelling per ISO week: these would be separate plans of 2026-W51.
        (
            serde_json::json!({"region": "35.09", "week": "2026-W051"}),
            400,
        ),
        (
            serde_json::json!({"region": "35.09", "week": "+2026-W51"}),
            400,
        ),
        (
            serde_json::json!({"region": "35.09", "week": "2026-W1"}),
            400,
        ),
        (
            serde_json::json!({"region": "35.09", "time_limit_s": 0}),
            400,
        ),
        (serde_json::json!({"region": "35.09", "colour": "red"}), 400),
    ] {
        let resp = app
            .client
            .post(app.url("/api/v1/plans"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let got = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert_eq!(got, status, "{body}: {text}");
        assert!(text.contains("\"error\""), "{text}");
    }
    let (status, _) = app.get("/api/v1/plans/999").await;
    assert_eq!(status, 404);
    let (status, _) = app.get("/api/v1/plans/abc.geojson").await;
    assert_eq!(status, 404);
}

pub async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

pub fn stops_of(plan: &serde_json::Value, day: &str) -> Vec<(i64, i64, i64)> {
    plan["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["day"] == day)
        .flat_map(|r| {
            r["stops"].as_array().unwrap().iter().map(move |s| {
                (
                    r["team_id"].as_i64().unwrap(),
                    s["site_id"].as_i64().unwrap(),
                    s["part"].as_i64().unwrap(),
                )
            })
        })
        .collect()
}

/// The demo data set and next week's draft plan (short search), without the demo's publication.
pub async fn demo_plan_without_publishing(app: &TestApp) -> i64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    if app.seed == Seed::DemoPlan {
        // The template's draft, while it is still the only plan: nothing to import or plan.
        let plans = jemput::store::entity::plans::Entity::find();
        if plans.clone().count(&app.db).await.unwrap() == 1 {
            return plans.one(&app.db).await.unwrap().unwrap().id;
        }
    }
    if app.seed == Seed::Empty {
        for (dataset, name) in jemput::cli::DEMO_FILES {
            jemput::services::importing::import_file(
                &app.db,
                *dataset,
                &crate::helpers::demo_dir().join(name),
                &Default::default(),
                &jemput::import::NoProgress,
            )
            .await
            .expect("demo import");
        }
    }
    plan_demo_week(&app.db, &app.settings).await
}

/// Next week's draft plan of the demo kabupaten (short search) on its imported data.
pub async fn plan_demo_week(db: &sea_orm::DatabaseConnection, s: &jemput::config::Settings) -> i64 {
    let region = jemput::domain::RegionCode::parse("35.09").unwrap();
    // Next week on the suite's fixed clock (config/test.toml), not on today's date.
    let week = region.next_week(s.clock().now()).to_string();
    let options = jemput::services::planning::PlanOptions {
        time_limit_s: Some(0.5),
        seed: None,
        sites: Vec::new(),
        shares: None,
    };
    jemput::services::planning::plan_week(
        db,
        &jemput::app::ranker(s),
        &s.planner,
        &region,
        &week,
        &options,
    )
    .await
    .expect("plan the demo week")
}

/// Two versions of one week published at the same moment (two coordinators, or two `serve`
/// instances): the database keeps one published plan per region-week — the later publication
/// supersedes the earlier one instead of both standing, and each version's emails are queued once.
pub async fn concurrent_publishes_leave_one_published_plan(app: &TestApp) {
    let first = demo_plan_without_publishing(app).await;
    let plan = jemput::store::plans::load_plan(&app.db, first)
        .await
        .unwrap()
        .unwrap();
    let region = jemput::domain::RegionCode::parse(&plan.region_code).unwrap();
    let options = jemput::services::planning::PlanOptions {
        time_limit_s: Some(0.5),
        seed: Some(7),
        sites: Vec::new(),
        shares: None,
    };
    let s = &app.settings;
    let ranker = jemput::app::ranker(s);
    let another_version = || {
        jemput::services::planning::plan_week(
            &app.db, &ranker, &s.planner, &region, &plan.week, &options,
        )
    };
    let second = another_version().await.unwrap();
    let (path_a, path_b) = (
        format!("/api/v1/plans/{first}/publish"),
        format!("/api/v1/plans/{second}/publish"),
    );
    let ((a, body_a), (b, body_b)) = tokio::join!(
        send(app, reqwest::Method::POST, &path_a, None),
        send(app, reqwest::Method::POST, &path_b, None)
    );
    assert!(
        [a, b].iter().all(|s| *s == 202 || *s == 409),
        "{a} {body_a} / {b} {body_b}"
    );
    let statuses: Vec<String> =
        jemput::store::plans::list(&app.db, region.as_str(), Some(&plan.week))
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.status)
            .collect();
    assert_eq!(
        statuses.iter().filter(|s| *s == "published").count(),
        1,
        "{statuses:?}"
    );
    // Approving an older version could never lead to its publication: refused. The newest is
    // approved, and the approval is in the audit trail.
    let (status, body) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/plans/{first}/approve"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let third = another_version().await.unwrap();
    let (status, body) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/plans/{third}/approve"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let trail = jemput::store::accounts::list_audit(&app.db, None, 50)
        .await
        .unwrap();
    assert!(
        trail
            .iter()
            .any(|a| a.action == "plan.approve" && a.object_id == third.to_string()),
        "approval audited"
    );
}

/// A plan asked for a kecamatan is the kabupaten's plan focused on that kecamatan's sites: it is
/// stored under the kabupaten (whose teams it schedules), and publishing it emails those teams.
pub async fn a_kecamatan_plan_belongs_to_its_kabupaten(app: &TestApp) {
    crate::plans::demo_plan_without_publishing(app).await;
    let (status, plan) = send(
        app,
        reqwest::Method::POST,
        "/api/v1/plans",
        Some(serde_json::json!({"region": "35.09.24", "time_limit_s": 0.5})),
    )
    .await;
    assert_eq!(status, 201, "{plan}");
    assert_eq!(plan["region"], "35.09", "{}", plan["region"]);
    let id = plan["id"].as_i64().unwrap();
    let (status, published) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/plans/{id}/publish"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{published}");
    assert!(
        published["emails_queued"].as_u64().unwrap() > 0,
        "the teams are told: {published}"
    );
}

/// Week labels stored before they were checked (`2026-W050`, `+2026-W50`) are rewritten to the
/// one form by migration 000010, and what they collide with is settled: a plan's version that is
/// taken becomes the week's next, the newer of two published plans stays published, the newer of
/// two pins or weekly runs for one key stays.
pub async fn legacy_week_labels_are_normalised(app: &TestApp) {
    use jemput::store::entity::{plan_pins, plans, weekly_runs};
    use migration::MigratorTrait;
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

    let canonical = demo_plan_without_publishing(app).await;
    let db = &app.db;
    let first = plans::Entity::find_by_id(canonical)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.week, "2026-W50");
    let options = jemput::services::planning::PlanOptions {
        time_limit_s: Some(0.5),
        ..Default::default()
    };
    let region = jemput::domain::RegionCode::parse(&first.region_code).unwrap();
    let legacy = jemput::services::planning::plan_week(
        db,
        &jemput::app::ranker(&app.settings),
        &app.settings.planner,
        &region,
        "2026-W50",
        &options,
    )
    .await
    .unwrap();
    // Back to before migrations 000010–000014, then write what the old code accepted (with
    // statements that read nothing back: before 000012 the JSON columns are text again).
    {
        use sea_orm::TransactionTrait;
        let txn = db.begin().await.unwrap();
        migration::Migrator::down(&txn, Some(5)).await.unwrap();
        txn.commit().await.unwrap();
    }
    use sea_orm::sea_query::Expr;
    plans::Entity::update_many()
        .col_expr(plans::Column::Status, Expr::value("published"))
        .filter(plans::Column::Id.eq(first.id))
        .exec(db)
        .await
        .unwrap();
    plans::Entity::update_many()
        .col_expr(plans::Column::Week, Expr::value("2026-W050"))
        .col_expr(plans::Column::Version, Expr::value(1))
        .col_expr(plans::Column::Status, Expr::value("published"))
        .filter(plans::Column::Id.eq(legacy))
        .exec(db)
        .await
        .unwrap();
    // Ids only: the sites' JSON columns are text until the migrations run again.
    use sea_orm::QuerySelect;
    let site_id: i64 = jemput::store::entity::sites::Entity::find()
        .select_only()
        .column(jemput::store::entity::sites::Column::Id)
        .into_tuple()
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let team = jemput::store::entity::teams::Entity::find()
        .one(db)
        .await
        .unwrap()
        .unwrap();
    for week in ["2026-W50", "+2026-W50", "2026-W1"] {
        plan_pins::ActiveModel {
            region_code: Set(first.region_code.clone()),
            week: Set(week.into()),
            site_id: Set(site_id),
            part: Set(1),
            team_id: Set(team.id),
            day: Set(chrono::NaiveDate::from_ymd_opt(2026, 12, 8).unwrap()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        weekly_runs::ActiveModel {
            region_code: Set(first.region_code.clone()),
            week: Set(week.into()),
            action: Set(format!("test {week}")),
            plan_id: Set(None),
            ran_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }

    jemput::store::migrate(db).await.unwrap();

    let week = plans::Entity::find()
        .filter(plans::Column::RegionCode.eq(first.region_code.as_str()))
        .order_by_asc(plans::Column::Id)
        .all(db)
        .await
        .unwrap();
    let seen: Vec<(i64, &str, i32, &str)> = week
        .iter()
        .map(|p| (p.id, p.week.as_str(), p.version, p.status.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (canonical, "2026-W50", 1, "superseded"),
            (legacy, "2026-W50", 2, "published")
        ]
    );
    let pins: Vec<String> = plan_pins::Entity::find()
        .order_by_asc(plan_pins::Column::Week)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.week)
        .collect();
    assert_eq!(pins, ["2026-W01", "2026-W50"]);
    let runs: Vec<(String, String)> = weekly_runs::Entity::find()
        .order_by_asc(weekly_runs::Column::Week)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.week, r.action))
        .collect();
    assert_eq!(
        runs,
        [
            ("2026-W01".to_string(), "test 2026-W1".to_string()),
            ("2026-W50".to_string(), "test +2026-W50".to_string())
        ]
    );
    // The API reads the week as one.
    let (status, body) = app
        .get(&format!(
            "/api/v1/plans?region={}&week=2026-W50",
            first.region_code
        ))
        .await;
    assert_eq!(status, 200, "{body}");
}

on_both_backends!(
    legacy_week_labels_are_normalised,
    the_jember_demo_plan_makes_sense,
    plan_requests_are_validated,
);

on_both_backends!(
    demo_plan:
    concurrent_publishes_leave_one_published_plan,
    a_kecamatan_plan_belongs_to_its_kabupaten,
);
