//! Publishing a real plan queues one email per team member, once; the weekly trigger publishes
//! an approved plan or reminds the coordinator, once per region-week, and one region failing
//! does not stop the others.

use jemput::store::outbox::{self};
use sea_orm::ConnectionTrait;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::outbox::*;
use crate::support::fake_smtp::FakeSmtp;

/// E1, E2, E11 with a real plan: publishing queues one email per team member in the same
/// transaction (none if that transaction fails), publishing again queues nothing, and the worker
/// delivers each exactly once.
pub async fn publishing_queues_each_member_once(app: &TestApp) {
    let plan_id = crate::plans::demo_plan_without_publishing(app).await;
    let members: Vec<(String, String)> = jemput::store::plans::members_of(
        &app.db,
        &jemput::store::plans::teams_of(&app.db, "35.09")
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>(),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|m| (m.email, m.language))
    .collect();
    assert!(members.len() >= 4);
    let count = || async {
        let r = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM email_outbox",
            ))
            .await
            .unwrap()
            .unwrap();
        r.try_get::<i64>("", "n").unwrap()
    };

    // Sabotage the outbox (z2p style): the publication fails as a whole.
    app.db
        .execute_unprepared("ALTER TABLE email_outbox DROP COLUMN ics")
        .await
        .unwrap();
    let resp = post(app, &format!("/api/v1/plans/{plan_id}/publish")).await;
    assert_eq!(resp.status().as_u16(), 500);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        !body.to_string().contains("email_outbox"),
        "no SQL in the reply: {body}"
    );
    assert_eq!(count().await, 0);
    let (_, plan) = app.get(&format!("/api/v1/plans/{plan_id}")).await;
    assert_eq!(plan["status"], "draft", "nothing half-written");
    app.db
        .execute_unprepared("ALTER TABLE email_outbox ADD COLUMN ics TEXT")
        .await
        .unwrap();

    // No SMTP anywhere: the request still succeeds and the emails wait in the outbox.
    let resp = post(app, &format!("/api/v1/plans/{plan_id}/publish")).await;
    assert_eq!(resp.status().as_u16(), 202);
    let body: serde_json::Value = resp.json().await.unwrap();
    // One email per member, and one notice per visited place with an email (tests/api/notices.rs).
    let notices = body["sites_notified"].as_u64().unwrap() as usize;
    assert_eq!(
        body["emails_queued"].as_u64().unwrap() as usize,
        members.len() + notices
    );
    let (rows, places): (Vec<_>, Vec<_>) = outbox::list(&app.db, None, None, Some(plan_id), 1000)
        .await
        .unwrap()
        .into_iter()
        .partition(|r| r.site_id.is_none());
    assert_eq!(rows.len(), members.len());
    assert_eq!(places.len(), notices);
    assert!(places.iter().all(|r| r.kind == "notice"));
    assert!(
        rows.iter()
            .all(|r| r.status == "pending" && r.kind == "schedule")
    );
    for r in &rows {
        let lang = &members
            .iter()
            .find(|(e, _)| r.recipient.contains(e.as_str()))
            .unwrap()
            .1;
        let prefix = if lang == "en" {
            "Outreach schedule Tim "
        } else {
            "Jadwal jemput bola Tim "
        };
        assert!(
            r.subject.starts_with(prefix),
            "{} for a member reading {lang}",
            r.subject
        );
        assert!(r.ics.as_deref().unwrap().contains("BEGIN:VCALENDAR"));
    }

    // E11: again, nothing more.
    let resp = post(app, &format!("/api/v1/plans/{plan_id}/publish")).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(count().await as usize, members.len() + notices);

    // E2: one email per member, each sent on the first attempt (with the notices already due).
    let smtp = FakeSmtp::start().await;
    let t = worker(app, &smtp_settings(app, smtp.port()))
        .drain()
        .await
        .unwrap();
    let expected: Vec<String> = members.iter().map(|(e, _)| format!("<{e}>")).collect();
    let to_members = || -> Vec<String> {
        let mut to: Vec<String> = smtp
            .received()
            .iter()
            .flat_map(|m| m.to.clone())
            .filter(|t| expected.contains(t))
            .collect();
        to.sort();
        to
    };
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(to_members(), sorted, "each member once");
    assert_eq!(t.sent, smtp.received().len());
    let rows = outbox::list(&app.db, None, None, Some(plan_id), 1000)
        .await
        .unwrap();
    assert!(rows.iter().filter(|r| r.site_id.is_none()).all(|r| {
        r.status == "sent"
            && r.attempts == 1
            && r.smtp_response
                .as_deref()
                .unwrap_or_default()
                .starts_with("250")
    }));
    // Publishing once more after delivery still sends nothing.
    post(app, &format!("/api/v1/plans/{plan_id}/publish")).await;
    assert_eq!(
        worker(app, &smtp_settings(app, smtp.port()))
            .drain()
            .await
            .unwrap()
            .sent,
        0
    );
    assert_eq!(to_members(), sorted);
    smtp.stop();
}

/// The weekly trigger at Friday 14:00 local: an approved plan is published and sent; without
/// approval the coordinator gets a reminder; each region-week only once.
/// The weekly trigger of one region failing (here: a broken per-region setting for Jember) does
/// not stop the others: Banyuwangi still gets its reminder, and Jember is reported as failed.
pub async fn a_failing_region_does_not_stop_the_weekly_trigger(app: &TestApp) {
    use chrono::TimeZone;
    use jemput::store::entity::teams;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    crate::plans::demo_plan_without_publishing(app).await;
    jemput::store::entity::regions::ActiveModel {
        code: Set("35.10".into()),
        level: Set("kabupaten".into()),
        parent_code: Set(Some("35".into())),
        name: Set("Kabupaten Banyuwangi".into()),
        lat: Set(-8.33),
        lon: Set(114.2),
        boundary: Set(None),
        time_zone: Set("Asia/Jakarta".into()),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let jember_team = teams::Entity::find().one(&app.db).await.unwrap().unwrap();
    let mut bwi: teams::ActiveModel = jember_team.into();
    bwi.id = sea_orm::ActiveValue::NotSet;
    bwi.name = Set("Tim Banyuwangi".into());
    bwi.kabupaten_code = Set("35.10".into());
    bwi.insert(&app.db).await.unwrap();
    let mut settings = app.settings.clone();
    settings.weekly.regions.insert(
        "35.09".into(),
        jemput::config::WeeklyRegion {
            day: Some("someday".into()),
            time: None,
        },
    );
    // Friday 4 December 2026, 15:00 WIB: both regions are due.
    let friday = chrono_tz::Asia::Jakarta
        .with_ymd_and_hms(2026, 12, 4, 15, 0, 0)
        .unwrap()
        .with_timezone(&chrono::Utc);
    let done = jemput::services::publishing::run_weekly(&app.db, &settings, friday)
        .await
        .expect("one region's failure is not the run's");
    let by_region: std::collections::BTreeMap<&str, &str> = done
        .iter()
        .map(|a| (a.region.as_str(), a.action.as_str()))
        .collect();
    assert_eq!(
        by_region,
        [("35.09", "failed"), ("35.10", "reminded")].into(),
        "{done:?}"
    );
}

pub async fn weekly_trigger_publishes_or_reminds_once(app: &TestApp) {
    use chrono::TimeZone;
    let plan_id = crate::plans::demo_plan_without_publishing(app).await;
    let (_, plan) = app.get(&format!("/api/v1/plans/{plan_id}")).await;
    let week = plan["week"].as_str().unwrap().to_string();
    let monday = jemput::services::ranking::week_start(&week).unwrap();
    let friday_before = monday - chrono::Duration::days(3);
    let jakarta = chrono_tz::Asia::Jakarta;
    let at = |h: u32, m: u32| {
        jakarta
            .from_local_datetime(&friday_before.and_hms_opt(h, m, 0).unwrap())
            .single()
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let settings = &app.settings;
    assert!(
        jemput::services::publishing::run_weekly(&app.db, settings, at(13, 59))
            .await
            .unwrap()
            .is_empty(),
        "not before Friday 14:00 local"
    );
    // Not approved: a reminder to the coordinator, once.
    let done = jemput::services::publishing::run_weekly(&app.db, settings, at(14, 1))
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(
        (done[0].week.as_str(), done[0].action.as_str()),
        (week.as_str(), "reminded")
    );
    let reminders = outbox::list(&app.db, None, None, None, 100).await.unwrap();
    assert_eq!(reminders.len(), settings.weekly.coordinators["35.09"].len());
    assert!(
        reminders
            .iter()
            .all(|r| r.kind == "reminder" && r.subject.starts_with("Pengingat"))
    );
    assert!(
        jemput::services::publishing::run_weekly(&app.db, settings, at(15, 0))
            .await
            .unwrap()
            .is_empty()
    );
    let (_, p) = app.get(&format!("/api/v1/plans/{plan_id}")).await;
    assert_eq!(p["status"], "draft", "an unapproved plan is not sent");

    // The following week, approved in advance: published and every member emailed at 14:00.
    let next_week = jemput::priority::next_week(monday);
    let region = jemput::domain::RegionCode::parse("35.09").unwrap();
    let options = jemput::services::planning::PlanOptions {
        time_limit_s: Some(0.3),
        seed: None,
        sites: Vec::new(),
        shares: None,
    };
    let next_id = jemput::services::planning::plan_week(
        &app.db,
        &jemput::app::ranker(settings),
        &settings.planner,
        &region,
        &next_week,
        &options,
    )
    .await
    .unwrap();
    let resp = post(app, &format!("/api/v1/plans/{next_id}/approve")).await;
    assert_eq!(resp.status().as_u16(), 200);
    let a_week_later = at(14, 0) + chrono::Duration::days(7);
    let done = jemput::services::publishing::run_weekly(&app.db, settings, a_week_later)
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(
        (done[0].week.as_str(), done[0].action.as_str()),
        (next_week.as_str(), "published")
    );
    let (_, p) = app.get(&format!("/api/v1/plans/{next_id}")).await;
    assert_eq!(p["status"], "published");
    let sent = outbox::list(&app.db, None, None, Some(next_id), 100)
        .await
        .unwrap();
    assert!(
        sent.iter().any(|r| r.kind == "schedule")
            && sent.iter().all(|r| r.kind
                == if r.site_id.is_some() {
                    "notice"
                } else {
                    "schedule"
                })
    );
    assert!(
        jemput::services::publishing::run_weekly(
            &app.db,
            settings,
            a_week_later + chrono::Duration::hours(1)
        )
        .await
        .unwrap()
        .is_empty()
    );
}

on_both_backends!(
    demo_plan:
    publishing_queues_each_member_once,
    weekly_trigger_publishes_or_reminds_once,
    a_failing_region_does_not_stop_the_weekly_trigger,
);
