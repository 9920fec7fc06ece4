//! Publish, pin, re-plan mid-week, publish again.

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::plans::*;

/// (team, site, part) -> (day, start) of a plan's JSON.
fn visits_by_team(
    plan: &serde_json::Value,
) -> std::collections::BTreeMap<i64, Vec<(i64, i64, String, String)>> {
    let mut out: std::collections::BTreeMap<i64, Vec<_>> = Default::default();
    for r in plan["routes"].as_array().unwrap() {
        for s in r["stops"].as_array().unwrap() {
            out.entry(r["team_id"].as_i64().unwrap())
                .or_default()
                .push((
                    s["site_id"].as_i64().unwrap(),
                    s["part"].as_i64().unwrap(),
                    r["day"].as_str().unwrap().to_string(),
                    s["start"].as_str().unwrap().to_string(),
                ));
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// Publish, pin, re-plan mid-week, publish again: completed days stay as they were, pins are
/// honoured, the answer counts what moved, and versions supersede each other.
pub async fn pins_replan_and_publish(app: &TestApp) {
    let report = app.run_demo().await;
    let first = report.plan.id;
    // The demo publishes its plan and writes one email per team member.
    assert_eq!(report.plan.status, "published");
    assert!(report.emails.newly_published);
    // Every team email went; the notices to the places visited wait for their day
    // (`notices.lead_days` before the visit) or went too.
    let rows = jemput::store::outbox::list(&app.db, None, None, Some(first), 10_000)
        .await
        .unwrap();
    let team_rows = rows.iter().filter(|r| r.site_id.is_none()).count();
    assert!(team_rows >= 4, "{:?}", report.emails);
    assert_eq!(
        team_rows + report.emails.sites_notified,
        report.emails.queued as usize
    );
    assert!(
        rows.iter()
            .all(|r| r.status == "sent" || (r.site_id.is_some() && r.status == "pending"))
    );
    let sent_rows = rows.iter().filter(|r| r.status == "sent").count();
    assert_eq!(sent_rows, report.emails.sent);
    let eml = std::fs::read_dir(&app.settings.email.file_dir)
        .expect("the demo wrote .eml files")
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "eml")
        })
        .count();
    assert_eq!(eml, report.emails.sent);
    let (status, body) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/plans/{first}/publish"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "published");
    assert_eq!(body["newly_published"], false);
    assert_eq!(body["emails_queued"], 0);
    let (_, again) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/plans/{first}/publish"),
        None,
    )
    .await;
    assert_eq!(
        again["newly_published"], false,
        "publishing twice changes nothing"
    );

    let (_, plan) = app.get(&format!("/api/v1/plans/{first}")).await;
    let monday = jemput::services::ranking::week_start(plan["week"].as_str().unwrap()).unwrap();
    let day = |n: i64| (monday + chrono::Duration::days(n)).to_string();
    // A school or village visit on Tuesday to Thursday, pinned to the same team on another of
    // those days (same opening hours, and a pin goes into its route first, so it fits).
    let pinnable = ["sd", "mi", "smp", "mts", "sma", "smk", "ma", "balai_desa"];
    let (team_id, stop, from_day) = plan["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| [day(1), day(2), day(3)].contains(&r["day"].as_str().unwrap().to_string()))
        .flat_map(|r| {
            r["stops"].as_array().unwrap().iter().map(move |s| {
                (
                    r["team_id"].as_i64().unwrap(),
                    s.clone(),
                    r["day"].as_str().unwrap().to_string(),
                )
            })
        })
        .find(|(_, s, _)| pinnable.contains(&s["kind"].as_str().unwrap()))
        .expect("a pinnable visit");
    let to_day = if from_day == day(2) { day(3) } else { day(2) };
    let pin = serde_json::json!({"site_id": stop["site_id"], "part": stop["part"], "team_id": team_id, "day": to_day});

    // Bad pins are refused as a whole and leave the stored pins alone.
    let (status, body) = send(app, reqwest::Method::PUT, &format!("/api/v1/plans/{first}/pins"),
        Some(serde_json::json!({"pins": [pin, {"site_id": stop["site_id"], "team_id": team_id, "day": day(9)}]}))).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("pins[1]"),
        "{body}"
    );
    let (_, pins) = app.get(&format!("/api/v1/plans/{first}/pins")).await;
    assert_eq!(pins["pins"].as_array().unwrap().len(), 0);
    let (status, _) = send(
        app,
        reqwest::Method::PUT,
        "/api/v1/plans/999999/pins",
        Some(serde_json::json!({"pins": []})),
    )
    .await;
    assert_eq!(status, 404);

    let (status, body) = send(
        app,
        reqwest::Method::PUT,
        &format!("/api/v1/plans/{first}/pins"),
        Some(serde_json::json!({"pins": [pin]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Re-plan as of Tuesday: Monday was worked.
    let (status, second) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/plans/{first}/replan"),
        Some(serde_json::json!({"as_of": day(1), "time_limit_s": 1.0})),
    )
    .await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["version"], plan["version"].as_i64().unwrap() + 1);
    assert_eq!(second["base_plan_id"], first);
    assert_eq!(second["status"], "draft");
    let mut before = stops_of(&plan, &day(0));
    let mut after = stops_of(&second, &day(0));
    before.sort();
    after.sort();
    assert_eq!(
        before, after,
        "Monday's completed visits stay exactly as they were"
    );
    let pinned_at: Vec<(i64, String)> = second["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["stops"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["site_id"] == stop["site_id"] && s["part"] == stop["part"])
        })
        .map(|r| {
            (
                r["team_id"].as_i64().unwrap(),
                r["day"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let pinned_stops: Vec<String> = second["routes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["stops"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["pinned"] == true)
                .map(move |s| {
                    format!(
                        "{} {} {} {}",
                        r["team_id"], r["day"], s["site_id"], s["part"]
                    )
                })
        })
        .collect();
    assert_eq!(
        pinned_at,
        vec![(team_id, to_day.clone())],
        "the pin is honoured: {pin} {pinned_stops:?}"
    );
    let changes = &second["changes"];
    assert!(
        changes["moved"].as_i64().unwrap() >= 1,
        "the pinned visit moved: {changes}"
    );
    assert_eq!(
        changes["kept_completed"].as_i64().unwrap() as usize,
        before.len(),
        "{changes}"
    );
    assert!(
        second["totals"]["priority_served"].as_f64().unwrap()
            <= second["totals"]["upper_bound"].as_f64().unwrap() + 1e-6
    );

    // Publishing the new version supersedes the old one and tells only the teams whose visits
    // changed, in a "Perubahan jadwal" email.
    let second_id = second["id"].as_i64().unwrap();
    let (status, published) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/plans/{second_id}/publish"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{published}");
    let (old_visits, new_visits) = (visits_by_team(&plan), visits_by_team(&second));
    let changed: std::collections::BTreeSet<i64> = old_visits
        .keys()
        .chain(new_visits.keys())
        .filter(|t| old_visits.get(t) != new_visits.get(t))
        .copied()
        .collect();
    assert!(changed.contains(&team_id), "the pinned team changed");
    // (The places whose visits moved get their own notices: tests/api/notices.rs.)
    let notices: Vec<_> = jemput::store::outbox::list(&app.db, None, None, Some(second_id), 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.site_id.is_none())
        .collect();
    let notified: std::collections::BTreeSet<i64> =
        notices.iter().map(|n| n.team_id.unwrap()).collect();
    assert_eq!(notified, changed, "exactly the changed teams hear about it");
    assert_eq!(
        published["teams_notified"].as_u64().unwrap() as usize,
        changed.len()
    );
    for n in &notices {
        assert_eq!(n.kind, "change");
        assert!(
            n.subject.starts_with("Perubahan jadwal jemput bola")
                || n.subject.starts_with("Schedule change"),
            "{}",
            n.subject
        );
        assert!(
            n.body_text.contains("DIPINDAH")
                || n.body_text.contains("DITAMBAH")
                || n.body_text.contains("DIBATALKAN")
                || n.body_text.contains("MOVED")
                || n.body_text.contains("ADDED")
                || n.body_text.contains("CANCELLED"),
            "{}",
            n.body_text
        );
    }
    let (_, old) = app.get(&format!("/api/v1/plans/{first}")).await;
    assert_eq!(old["status"], "superseded");
    let (_, list) = app
        .get(&format!(
            "/api/v1/plans?region=35.09&week={}",
            plan["week"].as_str().unwrap()
        ))
        .await;
    let statuses: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["published", "superseded"], "{list}");

    // Pins that cannot all fit one day: 409 naming them, and no new version stored.
    let crowd: Vec<serde_json::Value> = second["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["day"] != day(0))
        .flat_map(|r| r["stops"].as_array().unwrap().iter())
        .filter(|s| pinnable.contains(&s["kind"].as_str().unwrap()))
        .take(25)
        .map(|s| serde_json::json!({"site_id": s["site_id"], "part": s["part"], "team_id": team_id, "day": day(2)}))
        .collect();
    let (status, body) = send(
        app,
        reqwest::Method::PUT,
        &format!("/api/v1/plans/{second_id}/pins"),
        Some(serde_json::json!({"pins": crowd})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/plans/{second_id}/replan"),
        Some(serde_json::json!({"as_of": day(1), "time_limit_s": 0.5})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    let (_, list) = app
        .get(&format!(
            "/api/v1/plans?region=35.09&week={}",
            plan["week"].as_str().unwrap()
        ))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

on_both_backends!(pins_replan_and_publish,);
