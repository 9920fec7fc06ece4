//! Field logs under concurrency and retries: two phones through two plan versions keep one
//! history, two reviewers leave one decision, an idempotency key replays and refuses.

use serde_json::json;

use crate::fieldlogs::*;
use crate::helpers::{TestApp, make_user};
use crate::on_both_backends;

/// Two phones of one team log one visit at the same moment through the links of two plan
/// versions (the first email's, and the one sent after a re-publication): the database keeps one
/// revision history for the visit — each revision number once, exactly one current log — and a
/// submission that loses the race is told to reload (409), never stored beside the winner.
pub async fn concurrent_logs_through_two_versions_keep_one_history(app: &TestApp) {
    use jemput::store::entity::{plan_stops, visit_logs};
    use sea_orm::{
        ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, Set,
    };

    let w = world(app).await;
    let db = &app.db;
    let old_stop = plan_stops::Entity::find_by_id(w.visit_b["id"].as_i64().unwrap())
        .one(db)
        .await
        .unwrap()
        .unwrap();
    // The same visit (site, team, day) in the next version, under its own stop id.
    let mut copy: plan_stops::ActiveModel = old_stop.clone().into();
    copy.id = NotSet;
    copy.plan_id = Set(w.draft_id);
    let new_stop = copy.insert(db).await.unwrap().id;
    let (status, _, body) = send(
        app,
        "POST",
        &format!("/api/v1/plans/{}/publish", w.draft_id),
        Some(&app.admin_token),
        None,
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");

    let field_b = fresh_token(app, "lapangan-b").await;
    let mut saved = 0;
    for round in 0..8 {
        let log = |stop: i64, phone: &'static str| {
            let field_b = field_b.clone();
            async move {
                send(
                    app,
                    "POST",
                    &format!("/api/v1/visits/{stop}/logs"),
                    Some(&field_b),
                    Some(json!({"status": "selesai", "counts": {"ktp_el": round}})),
                    Some(&format!("race-{round}-{phone}")),
                )
                .await
            }
        };
        let (a, b) = tokio::join!(log(old_stop.id, "a"), log(new_stop, "b"));
        for (status, _, body) in [a, b] {
            assert!(status == 201 || status == 409, "{status}: {body}");
            if status == 201 {
                saved += 1;
            }
        }
    }
    assert!(saved >= 8, "at least one of each pair is saved: {saved}");
    let logs = visit_logs::Entity::find()
        .filter(visit_logs::Column::SiteId.eq(old_stop.site_id))
        .filter(visit_logs::Column::TeamId.eq(old_stop.team_id))
        .filter(visit_logs::Column::VisitDate.eq(old_stop.day))
        .order_by_asc(visit_logs::Column::Id)
        .all(db)
        .await
        .unwrap();
    // The world's first log, then every saved one.
    assert_eq!(logs.len(), 1 + saved);
    let revisions: Vec<i32> = logs.iter().map(|l| l.revision).collect();
    assert_eq!(revisions, (1..=logs.len() as i32).collect::<Vec<_>>());
    let current: Vec<i32> = logs
        .iter()
        .filter(|l| l.is_current)
        .map(|l| l.revision)
        .collect();
    assert_eq!(current, [logs.len() as i32]);
}

/// Two managers decide on one pending log at the same moment (one approves, one rejects): one
/// decision stands (200), the other is told it was already reviewed (409); the visit's outcome
/// and the audit trail follow the decision that stood, once.
pub async fn concurrent_reviews_leave_one_decision(app: &TestApp) {
    use jemput::store::entity::visit_outcomes;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    let w = world(app).await;
    let second_manager = make_user(&app.db, "manajer-2", "manager", Some("35"), None).await;
    let field_b = fresh_token(app, "lapangan-b").await;
    let site = w.visit_b["site"]["id"].as_i64().unwrap();
    let outcomes_of_site = || async {
        visit_outcomes::Entity::find()
            .filter(visit_outcomes::Column::SiteId.eq(site))
            .count(&app.db)
            .await
            .unwrap()
    };
    let imported = outcomes_of_site().await;
    let mut log = w.log_b;
    for round in 0..6 {
        if round > 0 {
            let (status, _, body) = send(
                app,
                "POST",
                &format!("/api/v1/visits/{}/logs", w.visit_b["id"]),
                Some(&field_b),
                Some(json!({"status": "selesai", "counts": {"ktp_el": round}})),
                Some(&format!("review-race-{round}")),
            )
            .await;
            assert_eq!(status, 201, "{body}");
            log = parse(&body)["id"].as_i64().unwrap();
        }
        let decide = |token: String, decision: &'static str| async move {
            send(
                app,
                "POST",
                &format!("/api/v1/visit-logs/{log}/review"),
                Some(&token),
                Some(json!({"decision": decision, "comment": "cek"})),
                None,
            )
            .await
        };
        let (a, b) = tokio::join!(
            decide(w.manager.clone(), "approve"),
            decide(second_manager.clone(), "reject")
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", a.2, b.2);
        let approved = a.0 == 200;
        let stored = jemput::store::visits::log_by_id(&app.db, log)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.review,
            if approved { "approved" } else { "rejected" }
        );
        assert_eq!(
            outcomes_of_site().await,
            imported + u64::from(approved),
            "round {round}"
        );
    }
    let decisions = audit_trail(app, &app.admin_token)
        .await
        .iter()
        .filter(|l| l.starts_with("log.approve") || l.starts_with("log.reject"))
        .count();
    assert_eq!(decisions, 6);
}

/// Replaying a POST with the same Idempotency-Key creates one log (the replay says so); a
/// different body under that key is 422; keys belong to their user.
pub async fn idempotency_key_replays_and_refuses_a_different_body(app: &TestApp) {
    let w = world(app).await;
    let path = format!("/api/v1/visits/{}/logs", w.visit_a["id"]);
    let body = json!({"status": "selesai", "counts": {"ktp_el": 40, "ikd": 12}, "notes": "x"});
    let first = send(
        app,
        "POST",
        &path,
        Some(&w.field_a),
        Some(body.clone()),
        Some("k-1"),
    )
    .await;
    assert_eq!(first.0, 201, "{}", first.2);
    let second = send(
        app,
        "POST",
        &path,
        Some(&w.field_a),
        Some(body.clone()),
        Some("k-1"),
    )
    .await;
    assert_eq!(second.0, 201);
    assert_eq!(second.2, first.2, "the replay is byte-identical");
    assert_eq!(second.1["idempotent-replayed"], "true");
    assert!(first.1.get("idempotent-replayed").is_none());
    let history = || async {
        let (_, _, b) = send(app, "GET", &path, Some(&w.field_a), None, None).await;
        parse(&b)["items"].as_array().unwrap().len()
    };
    assert_eq!(history().await, 1);
    let changed = json!({"status": "selesai", "counts": {"ktp_el": 41, "ikd": 12}, "notes": "x"});
    let third = send(
        app,
        "POST",
        &path,
        Some(&w.field_a),
        Some(changed.clone()),
        Some("k-1"),
    )
    .await;
    assert_eq!(third.0, 422, "{}", third.2);
    assert_eq!(history().await, 1);
    // Two identical requests at once (I3): one log; the answers are identical or one is 409.
    let body2 = json!({"status": "sebagian", "counts": {"ktp_el": 7}});
    let (x, y) = tokio::join!(
        send(
            app,
            "POST",
            &path,
            Some(&w.field_a),
            Some(body2.clone()),
            Some("k-2")
        ),
        send(
            app,
            "POST",
            &path,
            Some(&w.field_a),
            Some(body2.clone()),
            Some("k-2")
        ),
    );
    assert!(x.0 < 500 && y.0 < 500, "{} {} / {} {}", x.0, x.2, y.0, y.2);
    assert!(
        (x.0 == 201 && y.0 == 201 && x.2 == y.2) || x.0 == 409 || y.0 == 409,
        "{} {} / {} {}",
        x.0,
        x.2,
        y.0,
        y.2
    );
    assert_eq!(history().await, 2);
    // Without a key: 400, nothing written.
    let keyless = send(
        app,
        "POST",
        &path,
        Some(&w.field_a),
        Some(changed.clone()),
        None,
    )
    .await;
    assert_eq!(keyless.0, 400);
    // The same key from another user is another request: an edit, revision 3.
    let other = send(
        app,
        "POST",
        &path,
        Some(&w.coordinator),
        Some(changed),
        Some("k-1"),
    )
    .await;
    assert_eq!(other.0, 201, "{}", other.2);
    assert_eq!(parse(&other.2)["revision"], 3);
    assert_eq!(history().await, 3);
    // The edit keeps the old revision, no longer current.
    let (_, _, b) = send(app, "GET", &path, Some(&w.field_a), None, None).await;
    let items = parse(&b)["items"].as_array().unwrap().clone();
    assert_eq!(items[0]["current"], false);
    assert_eq!(items[0]["counts"]["ktp_el"], 40);
    assert_eq!(items[1]["current"], false);
    assert_eq!(items[2]["current"], true);
}

on_both_backends!(
    demo_plan:
    concurrent_logs_through_two_versions_keep_one_history,
    concurrent_reviews_leave_one_decision,
    idempotency_key_replays_and_refuses_a_different_body,
);
