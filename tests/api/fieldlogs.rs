//! Field visit logs: the signed link in the weekly email, idempotent logging, review, and the
//! closed loop into next week's priorities and the derived coverage.

use serde_json::{Value, json};

use crate::helpers::{TestApp, make_user, new_session};
use crate::on_both_backends;

/// A published demo week with two teams' visits, the four kinds of callers and one pending log.
pub struct World {
    pub plan_id: i64,
    pub draft_id: i64,
    pub week: String,
    pub visit_a: Value,
    pub visit_b: Value,
    pub team_a: i64,
    pub team_b: i64,
    pub coordinator: String,
    pub manager: String,
    pub field_a: String,
    pub log_b: i64,
    pub outbox: i64,
    pub token_b: String,
    /// The signed answer link of the notice to visit_a's site.
    pub notice_a: String,
}

pub async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    key: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = app
        .anonymous
        .request(method.parse().unwrap(), app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

pub fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON body ({e}): {body}"))
}

pub async fn world(app: &TestApp) -> World {
    let plan_id = crate::plans::demo_plan_without_publishing(app).await;
    let (status, _, body) = send(
        app,
        "POST",
        &format!("/api/v1/plans/{plan_id}/publish"),
        Some(&app.admin_token),
        None,
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let week = parse(&body)["week"].as_str().unwrap().to_string();
    let (_, _, body) = send(
        app,
        "GET",
        "/api/v1/visits",
        Some(&app.admin_token),
        None,
        None,
    )
    .await;
    let visits = parse(&body)["items"].as_array().unwrap().clone();
    assert!(visits.len() >= 2, "the demo week has visits");
    // A visit that serves people (not a PAUD pair's drop-off).
    let visit_a = visits
        .iter()
        .find(|v| v["people"].as_object().is_some_and(|p| !p.is_empty()))
        .cloned()
        .expect("a visit that serves people");
    let team_a = visit_a["team"]["id"].as_i64().unwrap();
    let visit_b = visits
        .iter()
        .find(|v| v["team"]["id"].as_i64() != Some(team_a))
        .expect("a second team has visits")
        .clone();
    let team_b = visit_b["team"]["id"].as_i64().unwrap();
    let db = &app.db;
    let coordinator = make_user(db, "koordinator", "coordinator", Some("35.09"), None).await;
    let manager = make_user(db, "manajer", "manager", Some("35"), None).await;
    let field_a = make_user(db, "lapangan-a", "field", None, Some(team_a)).await;
    let field_b = make_user(db, "lapangan-b", "field", None, Some(team_b)).await;
    let (status, _, body) = send(
        app,
        "POST",
        "/api/v1/plans",
        Some(&coordinator),
        Some(json!({"region": "35.09", "week": week, "time_limit_s": 0.2})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let draft_id = parse(&body)["id"].as_i64().unwrap();
    let (status, _, body) = send(
        app,
        "POST",
        &format!("/api/v1/visits/{}/logs", visit_b["id"]),
        Some(&field_b),
        Some(json!({"status": "sebagian", "counts": {"ktp_el": 5}})),
        Some("world-b-1"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let log_b = parse(&body)["id"].as_i64().unwrap();
    let outbox = jemput::store::outbox::list(db, None, None, Some(plan_id), 1)
        .await
        .unwrap()[0]
        .id;
    let expires = app.settings.clock().now().timestamp() + 86_400;
    let token_b = jemput::auth::sign_link(
        app.settings.auth.link_secret.expose(),
        &jemput::auth::LinkClaims {
            stop_id: visit_b["id"].as_i64().unwrap(),
            team_id: team_b,
            expires,
        },
    );
    let notice_a = crate::notices::answer_token(app, plan_id, visit_a["site"]["id"].as_i64());
    World {
        notice_a,
        plan_id,
        draft_id,
        week,
        visit_a,
        visit_b,
        team_a,
        team_b,
        coordinator,
        manager,
        field_a,
        log_b,
        outbox,
        token_b,
    }
}

/// A fresh session for a user by name (so logging out in one request spares the next).
pub async fn fresh_token(app: &TestApp, username: &str) -> String {
    let user = jemput::store::accounts::find_user(&app.db, username)
        .await
        .unwrap()
        .expect("user exists");
    new_session(&app.db, user.id).await
}

/// The report link of a visit, as the team's email carries it (pointed at the test server).
pub async fn link_in_email(app: &TestApp, plan_id: i64, team_id: i64, visit_id: i64) -> String {
    let rows = jemput::store::outbox::list(&app.db, None, None, Some(plan_id), 1000)
        .await
        .unwrap();
    let email = rows
        .iter()
        .find(|r| r.team_id == Some(team_id))
        .expect("the team got an email");
    let marker = format!("/v/{visit_id}.");
    let at = email
        .body_text
        .find(&marker)
        .unwrap_or_else(|| panic!("visit {visit_id}'s link in:\n{}", email.body_text));
    let rest = &email.body_text[at..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    assert!(
        email
            .body_html
            .replace("&#x2f;", "/")
            .contains(&rest[..end]),
        "the HTML part has the same link"
    );
    app.url(&rest[..end])
}

pub async fn expected_people(app: &TestApp, site: i64, week: &str, indicator: &str) -> f64 {
    let (status, _, body) = send(
        app,
        "GET",
        &format!("/api/v1/sites/{site}/priority?week={week}"),
        Some(&app.admin_token),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    parse(&body)["expected_people"][indicator]
        .as_f64()
        .unwrap_or(0.0)
}

pub async fn coverage_after(
    app: &TestApp,
    week: &str,
    kecamatan: &str,
    indicator: &str,
) -> (i64, i64) {
    let (status, _, body) = send(
        app,
        "GET",
        &format!("/api/v1/reports/weekly?region=35.09&week={week}"),
        Some(&app.admin_token),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let report = parse(&body);
    let kec = report["kecamatan"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["code"] == kecamatan)
        .unwrap_or_else(|| panic!("kecamatan {kecamatan} in {report}"));
    let cov = kec["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["indicator"] == indicator)
        .unwrap_or_else(|| panic!("{indicator} coverage in {kec}"))
        .clone();
    (
        cov["before"].as_i64().unwrap(),
        cov["after"].as_i64().unwrap(),
    )
}

/// Plan → publish → the field member logs through the email's signed link → the manager
/// approves → next week the site's expected people drop by the logged amount and the
/// kecamatan's derived coverage rises by it.
pub async fn the_loop_from_email_link_to_next_weeks_priority(app: &TestApp) {
    let w = world(app).await;
    let site = w.visit_a["site"]["id"].as_i64().unwrap();
    let visit_id = w.visit_a["id"].as_i64().unwrap();
    let people: std::collections::BTreeMap<String, f64> =
        serde_json::from_value(w.visit_a["people"].clone()).unwrap();
    let (indicator, _) = people
        .iter()
        .filter(|(k, _)| k.as_str() != "kk")
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("the visit expects people");
    let next_week = {
        let monday = jemput::services::ranking::week_start(&w.week).unwrap();
        jemput::priority::next_week(monday + chrono::Duration::days(7))
    };
    let before = expected_people(app, site, &next_week, indicator).await;
    let logged = (before.floor() as u32).clamp(1, 12);
    assert!(before >= f64::from(logged), "{before} people expected");

    let link = link_in_email(app, w.plan_id, w.team_a, visit_id).await;
    let page = app.anonymous.get(&link).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains(
            w.visit_a["site"]["name"]
                .as_str()
                .unwrap()
                .split('<')
                .next()
                .unwrap()
        )
    );
    assert!(!html.contains("<script src"), "no script framework");

    let form = [
        ("idem", "form-1".to_string()),
        ("status", "selesai".to_string()),
        (&*format!("count_{indicator}"), logged.to_string()),
        ("away_blangko_habis", "2".to_string()),
        ("check_in", "07:30".to_string()),
        ("check_out", "11:30".to_string()),
        ("notes", "Lancar".to_string()),
    ];
    let saved = app.anonymous.post(&link).form(&form).send().await.unwrap();
    assert_eq!(saved.status().as_u16(), 200);
    assert!(saved.text().await.unwrap().contains("Laporan tersimpan"));
    // A double tap sends the same form again: still one log.
    let again = app.anonymous.post(&link).form(&form).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 200);

    let (status, _, body) = send(
        app,
        "GET",
        &format!(
            "/api/v1/visit-logs?week={}&review=pending&team={}",
            w.week, w.team_a
        ),
        Some(&w.manager),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let logs = parse(&body)["items"].as_array().unwrap().clone();
    assert_eq!(logs.len(), 1, "one log for the visit: {logs:?}");
    let log = &logs[0];
    assert_eq!(log["revision"], 1);
    assert_eq!(log["logged_by"], format!("link:team:{}", w.team_a));
    assert_eq!(log["counts"][indicator], logged);

    let (status, _, body) = send(
        app,
        "POST",
        &format!("/api/v1/visit-logs/{}/review", log["id"]),
        Some(&w.manager),
        Some(json!({"decision": "approve", "comment": "Sesuai"})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(parse(&body)["review"], "approved");

    let after = expected_people(app, site, &next_week, indicator).await;
    assert!(
        (before - after - f64::from(logged)).abs() < 1e-6,
        "expected people {before} → {after}, logged {logged}"
    );
    let kecamatan = &w.visit_a["site"]["region"].as_str().unwrap()[..8];
    let (official, derived) = coverage_after(app, &w.week, kecamatan, indicator).await;
    assert_eq!(
        derived - official,
        i64::from(logged),
        "derived coverage rises by the log"
    );

    // The approval is in the audit trail with who did it.
    let actions = audit_trail(app, &w.manager).await;
    assert!(
        actions.iter().any(|a| a.starts_with("log.approve user:")),
        "{actions:?}"
    );
    assert!(actions.iter().any(|a| a.starts_with("plan.publish user:")));
}

/// Derived coverage is always the official figure plus the approved deliveries: a visit's log is
/// approved (the kecamatan's derived KTP-el rises by its 5), then a newer revision of that log is
/// rejected — the visit no longer has an approved outcome, and the derived figure goes back to the
/// official one instead of keeping the snapshot the approval made.
pub async fn rejecting_a_later_revision_takes_back_the_derived_coverage(app: &TestApp) {
    let w = world(app).await;
    let kecamatan = &w.visit_b["site"]["region"].as_str().unwrap()[..8];
    let review = |id: i64, decision: &'static str| {
        let manager = w.manager.clone();
        async move {
            let (status, _, body) = send(
                app,
                "POST",
                &format!("/api/v1/visit-logs/{id}/review"),
                Some(&manager),
                Some(json!({"decision": decision, "comment": "diperiksa"})),
                None,
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
    };
    review(w.log_b, "approve").await;
    let (official, derived) = coverage_after(app, &w.week, kecamatan, "ktp_el").await;
    assert_eq!(derived - official, 5, "the approved log counts");

    let field_b = fresh_token(app, "lapangan-b").await;
    let (status, _, body) = send(
        app,
        "POST",
        &format!("/api/v1/visits/{}/logs", w.visit_b["id"]),
        Some(&field_b),
        Some(json!({"status": "selesai", "counts": {"ktp_el": 7}})),
        Some("world-b-2"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let second = parse(&body);
    assert_eq!(second["revision"], 2, "{second}");
    review(second["id"].as_i64().unwrap(), "reject").await;
    let (official, derived) = coverage_after(app, &w.week, kecamatan, "ktp_el").await;
    assert_eq!(
        derived, official,
        "no approved outcome is left for the visit"
    );
}

/// The audit trail as `"{action} {actor}"` lines, newest first.
pub async fn audit_trail(app: &TestApp, token: &str) -> Vec<String> {
    let (status, _, body) = send(app, "GET", "/api/v1/audit", Some(token), None, None).await;
    assert_eq!(status, 200, "{body}");
    parse(&body)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["action"].as_str().unwrap(),
                a["actor"].as_str().unwrap()
            )
        })
        .collect()
}

/// A field member reaches only their team: another team's visit is 404 with nothing of that
/// team in the body, for reading, history and logging (A5).
pub async fn field_member_cannot_reach_other_team(app: &TestApp) {
    let w = world(app).await;
    let b_id = w.visit_b["id"].as_i64().unwrap();
    let b_team = w.visit_b["team"]["name"].as_str().unwrap();
    let b_site = w.visit_b["site"]["name"].as_str().unwrap();
    for (method, path, body) in [
        ("GET", format!("/api/v1/visits/{b_id}"), None),
        ("GET", format!("/api/v1/visits/{b_id}/logs"), None),
        (
            "POST",
            format!("/api/v1/visits/{b_id}/logs"),
            Some(json!({"status": "batal"})),
        ),
    ] {
        let (status, _, text) = send(app, method, &path, Some(&w.field_a), body, Some("a5")).await;
        assert_eq!(status, 404, "{method} {path}: {text}");
        assert!(!text.contains(b_team) && !text.contains(b_site), "{text}");
    }
    // The listing is exactly team A's visits, whatever the query asks for.
    let (_, _, all) = send(
        app,
        "GET",
        "/api/v1/visits",
        Some(&app.admin_token),
        None,
        None,
    )
    .await;
    let team_a_count = parse(&all)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["team"]["id"] == w.team_a)
        .count();
    let (_, _, mine) = send(app, "GET", "/api/v1/visits", Some(&w.field_a), None, None).await;
    let mine = parse(&mine)["items"].as_array().unwrap().clone();
    assert_eq!(mine.len(), team_a_count);
    assert!(mine.iter().all(|v| v["team"]["id"] == w.team_a));
    let (_, _, theirs) = send(
        app,
        "GET",
        &format!("/api/v1/visits?team={}", w.team_b),
        Some(&w.field_a),
        None,
        None,
    )
    .await;
    assert_eq!(parse(&theirs)["items"].as_array().unwrap().len(), 0);
    // Team B's signed link does not open team A's visit.
    let forged = w
        .token_b
        .replacen(&format!("{}.", b_id), &format!("{}.", w.visit_a["id"]), 1);
    let resp = app
        .anonymous
        .get(app.url(&format!("/v/{forged}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let expired = jemput::auth::sign_link(
        app.settings.auth.link_secret.expose(),
        &jemput::auth::LinkClaims {
            stop_id: b_id,
            team_id: w.team_b,
            expires: app.settings.clock().now().timestamp() - 1,
        },
    );
    let resp = app
        .anonymous
        .get(app.url(&format!("/v/{expired}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 410);
}

/// Review flags and the CSV: a log far from the site with impossible counts, written before the
/// visit's day, is flagged; the
/// export opens in Excel (BOM, CRLF, formulas defused) and a rejection feeds nothing back.
pub async fn flags_csv_and_rejection(app: &TestApp) {
    let w = world(app).await;
    let path = format!("/api/v1/visits/{}/logs", w.visit_a["id"]);
    let day = w.visit_a["day"].as_str().unwrap();
    let body = json!({
        "status": "selesai",
        "counts": {"ktp_el": 900},
        "check_in": {"at": format!("{day}T07:30:00+07:00"), "lat": -8.40, "lon": 113.20},
        "check_out": {"at": format!("{day}T08:30:00+07:00")},
        "notes": "=HYPERLINK(\"http://x\")",
    });
    let (status, _, text) =
        send(app, "POST", &path, Some(&w.field_a), Some(body), Some("f1")).await;
    assert_eq!(status, 201, "{text}");
    let flags = parse(&text)["flags"].clone();
    // The suite's clock reads Thursday 3 December; the visit is in the week after: early too.
    assert_eq!(flags, json!(["far_check_in", "over_capacity", "early"]));
    let (_, _, listed) = send(
        app,
        "GET",
        "/api/v1/visit-logs?flag=over_capacity",
        Some(&w.manager),
        None,
        None,
    )
    .await;
    let listed = parse(&listed)["items"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    let resp = app
        .anonymous
        .get(app.url("/api/v1/visit-logs.csv"))
        .bearer_auth(&w.manager)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM for Excel");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.starts_with("id,tanggal,minggu,wilayah,tim"));
    assert!(text.contains("\r\n"));
    assert!(text.contains("'=HYPERLINK"), "formula defused: {text}");
    assert_eq!(
        text.trim_end().split("\r\n").count(),
        3,
        "header + 2 logs: {text}"
    );

    let id = listed[0]["id"].as_i64().unwrap();
    let (status, _, _) = send(
        app,
        "POST",
        &format!("/api/v1/visit-logs/{id}/review"),
        Some(&w.manager),
        Some(json!({"decision": "reject", "comment": "Jumlah tidak masuk akal"})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let outcomes = jemput::store::entity::visit_outcomes::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        outcomes.iter().all(|o| !o.source.starts_with("field_log")),
        "a rejected log feeds nothing back"
    );
    // Reviewed once; a second decision is a conflict.
    let (status, _, _) = send(
        app,
        "POST",
        &format!("/api/v1/visit-logs/{id}/review"),
        Some(&w.manager),
        Some(json!({"decision": "approve"})),
        None,
    )
    .await;
    assert_eq!(status, 409);
}

use sea_orm::EntityTrait;

on_both_backends!(
    demo_plan:
    the_loop_from_email_link_to_next_weeks_priority,
    field_member_cannot_reach_other_team,
    flags_csv_and_rejection,
    rejecting_a_later_revision_takes_back_the_derived_coverage,
);
