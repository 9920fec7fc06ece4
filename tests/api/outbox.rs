//! The email outbox against a real SMTP conversation on 127.0.0.1 (a scripted server), on SQLite
//! and PostgreSQL: E1–E11 of `../shared/design/reliability.md`.
//!
//! Test settings (config/test.toml): SMTP timeout 1 s, backoff 50 ms doubling to a 400 ms cap,
//! lease 2 s, 5 attempts, poll 100 ms.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jemput::config::{MailTransport, Settings};
use jemput::mail::outbox::Worker;
use jemput::store::entity::email_outbox;
use jemput::store::outbox::{self, NewMessage};
use sea_orm::ConnectionTrait;
use tokio::sync::Notify;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::support::fake_smtp::{FakeSmtp, Reply, free_port};

pub fn smtp_settings(app: &TestApp, port: u16) -> Settings {
    let mut s = app.settings.clone();
    s.email.transport = MailTransport::Smtp;
    s.email.smtp.port = port;
    s
}

pub fn worker(app: &TestApp, settings: &Settings) -> Worker {
    Worker::new(app.db.clone(), settings, Arc::new(Notify::new())).expect("worker")
}

async fn enqueue(app: &TestApp, n: usize) -> Vec<i64> {
    let messages: Vec<NewMessage> = (0..n)
        .map(|i| NewMessage {
            dedupe_key: format!("test:{i}"),
            kind: "schedule".into(),
            plan_id: None,
            team_id: None,
            region_code: "35.09".into(),
            recipient: format!("Anggota {i} <anggota{i}@tim.example.org>"),
            language: "id".into(),
            subject: format!("Jadwal jemput bola Tim {i}"),
            body_text: format!("Jadwal {i}"),
            body_html: format!("<p>Jadwal {i}</p>"),
            ics: None,
        })
        .collect();
    let added = outbox::enqueue(
        &app.db,
        &messages,
        app.settings.outbox.max_attempts,
        &app.settings.email.message_id_domain,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(added as usize, n);
    outbox::list(&app.db, None, None, None, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect()
}

async fn post(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.post(app.url(path)).send().await.unwrap()
}

async fn row(app: &TestApp, id: i64) -> email_outbox::Model {
    use sea_orm::EntityTrait;
    email_outbox::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("outbox row")
}

/// Poll `cond` every 20 ms until it holds or `limit` passes; returns whether it held.
async fn eventually<F, Fut>(limit: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond().await
}

fn spawn_worker(
    w: Worker,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(w.run(async move {
        let _ = rx.await;
    }));
    (handle, tx)
}

/// E3: 451, 451, then 250 — three transactions, the same Message-ID each time, and retry gaps
/// that follow the backoff.
pub async fn transient_4xx_is_retried_with_backoff(app: &TestApp) {
    let smtp = FakeSmtp::start().await;
    smtp.script([Reply::Transient, Reply::Transient, Reply::Accept]);
    let ids = enqueue(app, 1).await;
    let (handle, stop) = spawn_worker(worker(app, &smtp_settings(app, smtp.port())));
    assert!(
        eventually(Duration::from_secs(5), || async {
            row(app, ids[0]).await.status == "sent"
        })
        .await,
        "sent after two deferrals"
    );
    let _ = stop.send(());
    handle.await.unwrap();
    let r = row(app, ids[0]).await;
    assert_eq!(r.attempts, 3);
    assert!(
        r.smtp_response.as_deref().unwrap().starts_with("250"),
        "{r:?}"
    );
    let tx = smtp.transactions();
    assert_eq!(
        tx.iter().map(|t| t.code).collect::<Vec<_>>(),
        [451, 451, 250]
    );
    assert!(
        tx.iter()
            .all(|t| t.message_id.as_deref() == Some(r.message_id.as_str()))
    );
    let o = &app.settings.outbox;
    for n in 1..tx.len() {
        let gap = tx[n].at - tx[n - 1].at;
        let min = Duration::from_millis(o.backoff_base_ms * (1 << (n - 1)) / 2);
        // At most the cap plus one poll, plus scheduling slack on a busy 2-core machine.
        let max = Duration::from_millis(o.backoff_cap_ms + o.poll_ms + 250);
        assert!(
            gap >= min && gap <= max,
            "retry gap {n}: {gap:?} not in {min:?}..{max:?}"
        );
    }
    assert_eq!(smtp.received().len(), 1);
    smtp.stop();
}

/// E4: a 550 fails at once, is never retried by the worker, shows in the API, and can be
/// retried by hand.
pub async fn permanent_5xx_fails_without_retry(app: &TestApp) {
    let smtp = FakeSmtp::start().await;
    smtp.script([Reply::Permanent]);
    let ids = enqueue(app, 1).await;
    let (handle, stop) = spawn_worker(worker(app, &smtp_settings(app, smtp.port())));
    assert!(
        eventually(Duration::from_secs(3), || async {
            row(app, ids[0]).await.status == "failed"
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(3 * app.settings.outbox.poll_ms)).await;
    let r = row(app, ids[0]).await;
    assert_eq!(r.attempts, 1);
    assert!(r.last_error.as_deref().unwrap().contains("550"), "{r:?}");
    assert_eq!(
        smtp.transactions().len(),
        1,
        "no retry of a permanent failure"
    );

    let (status, body) = app.get("/api/v1/outbox?status=failed").await;
    assert_eq!(status, 200);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ids[0]);
    assert!(items[0]["last_error"].as_str().unwrap().contains("550"));
    let (status, _) = app.get("/api/v1/outbox?status=lost").await;
    assert_eq!(status, 400);

    // A coordinator fixes the address and retries: the same Message-ID goes out.
    let resp = post(app, &format!("/api/v1/outbox/{}/retry", ids[0])).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        eventually(Duration::from_secs(3), || async {
            row(app, ids[0]).await.status == "sent"
        })
        .await
    );
    assert_eq!(
        smtp.received()[0].message_id.as_deref(),
        Some(r.message_id.as_str())
    );
    let resp = post(app, &format!("/api/v1/outbox/{}/retry", ids[0])).await;
    assert_eq!(resp.status().as_u16(), 409, "a sent email is not retried");
    let resp = post(app, "/api/v1/outbox/999999/retry").await;
    assert_eq!(resp.status().as_u16(), 404);
    let _ = stop.send(());
    handle.await.unwrap();
    smtp.stop();
}

/// After an outage longer than the retry budget: a coordinator puts every dead email of the
/// region back in the queue with one call (sent ones and other regions' stay as they are), the
/// call is in the audit trail, a coordinator of another kabupaten cannot do it, and the CLI does
/// the same by status.
pub async fn dead_emails_are_retried_together(app: &TestApp) {
    use sea_orm::{ActiveModelTrait, Set};
    let ids = enqueue(app, 5).await;
    for (i, id) in ids.iter().enumerate() {
        let mut r: email_outbox::ActiveModel = row(app, *id).await.into();
        r.status = Set(if i == 0 { "sent" } else { "dead" }.into());
        r.attempts = Set(app.settings.outbox.max_attempts);
        if i == 4 {
            r.region_code = Set("35.10".into());
        }
        r.update(&app.db).await.unwrap();
    }
    let coordinator =
        crate::helpers::make_user(&app.db, "koord", "coordinator", Some("35.09"), None).await;
    let other =
        crate::helpers::make_user(&app.db, "koord-bwi", "coordinator", Some("35.10"), None).await;
    let call = |token: String, body: serde_json::Value| {
        let req = app
            .client
            .post(app.url("/api/v1/outbox/retry"))
            .bearer_auth(token)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let resp = call(other.clone(), serde_json::json!({"region": "35.09"})).await;
    assert_eq!(resp.status().as_u16(), 403, "outside the caller's scope");
    let resp = call(coordinator.clone(), serde_json::json!({"status": "lost"})).await;
    assert_eq!(resp.status().as_u16(), 400);

    let resp = call(coordinator.clone(), serde_json::json!({"status": "dead"})).await;
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["requeued"], 3, "{body}");
    for (i, id) in ids.iter().enumerate() {
        let r = row(app, *id).await;
        let want = match i {
            0 => ("sent", app.settings.outbox.max_attempts),
            4 => ("dead", app.settings.outbox.max_attempts),
            _ => ("pending", 0),
        };
        assert_eq!((r.status.as_str(), r.attempts), want, "row {i}: {r:?}");
    }
    let (status, audit) = app.get("/api/v1/audit").await;
    assert_eq!(status, 200);
    let entry = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "outbox.retry")
        .expect("the bulk retry is audited");
    assert!(
        entry["actor"].as_str().unwrap().ends_with(":koord"),
        "{entry}"
    );
    assert_eq!(entry["region"], "35.09");
    assert_eq!(entry["detail"]["ids"].as_array().unwrap().len(), 3);

    let (ok, out, err) = app.jemput(&["outbox", "retry", "--status", "dead"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("1 email kembali diantrekan"), "{out}");
    assert_eq!(row(app, ids[4]).await.status, "pending");
}

/// E5: always 451 — dead after max_attempts, then silence.
pub async fn gives_up_after_max_attempts(app: &TestApp) {
    let smtp = FakeSmtp::start().await;
    smtp.set_default(Reply::Transient);
    let ids = enqueue(app, 1).await;
    let (handle, stop) = spawn_worker(worker(app, &smtp_settings(app, smtp.port())));
    assert!(
        eventually(Duration::from_secs(6), || async {
            row(app, ids[0]).await.status == "dead"
        })
        .await
    );
    let seen = smtp.transactions().len();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = row(app, ids[0]).await;
    assert_eq!(r.attempts, app.settings.outbox.max_attempts);
    assert_eq!(seen, app.settings.outbox.max_attempts as usize);
    assert_eq!(
        smtp.transactions().len(),
        seen,
        "no attempt after giving up"
    );
    let _ = stop.send(());
    handle.await.unwrap();
    smtp.stop();
}

/// E6: the relay is down for three polls, then comes up: everything arrives once, soon, and the
/// worker never stopped.
pub async fn smtp_down_then_up_loses_nothing(app: &TestApp) {
    let port = free_port();
    let mut settings = smtp_settings(app, port);
    // Enough attempts to outlast the outage; the point is what happens when it ends.
    settings.outbox.max_attempts = 10;
    let n = 5;
    let messages: Vec<NewMessage> = (0..n)
        .map(|i| NewMessage {
            dedupe_key: format!("down:{i}"),
            kind: "schedule".into(),
            plan_id: None,
            team_id: None,
            region_code: "35.09".into(),
            recipient: format!("anggota{i}@tim.example.org"),
            language: "id".into(),
            subject: "Jadwal".into(),
            body_text: "Jadwal".into(),
            body_html: "<p>Jadwal</p>".into(),
            ics: None,
        })
        .collect();
    outbox::enqueue(
        &app.db,
        &messages,
        10,
        "test.jemput.invalid",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let (handle, stop) = spawn_worker(worker(app, &settings));
    tokio::time::sleep(Duration::from_millis(3 * settings.outbox.poll_ms)).await;
    let tried = outbox::list(&app.db, None, None, None, 100).await.unwrap();
    assert!(tried.iter().all(|r| r.status != "sent"));
    assert!(
        tried.iter().any(|r| r.attempts >= 1),
        "the worker tried while the relay was down"
    );

    let smtp = FakeSmtp::start_on(port).await;
    let up = Instant::now();
    let o = &settings.outbox;
    assert!(
        eventually(Duration::from_secs(5), || async {
            smtp.received().len() == n
        })
        .await,
        "all {n} arrive"
    );
    let took = up.elapsed();
    assert!(
        took <= Duration::from_millis(o.backoff_cap_ms + 2 * o.poll_ms + 300),
        "arrived {took:?} after the relay came up"
    );
    assert!(!handle.is_finished(), "the worker is still running");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ids: HashSet<_> = smtp
        .received()
        .iter()
        .map(|m| m.message_id.clone())
        .collect();
    assert_eq!(ids.len(), n, "no duplicates");
    assert!(
        outbox::list(&app.db, None, None, None, 100)
            .await
            .unwrap()
            .iter()
            .all(|r| r.status == "sent")
    );
    let _ = stop.send(());
    handle.await.unwrap();
    smtp.stop();
}

/// E7: a server that never answers the end of the message: after `data_timeout_ms` the outcome is
/// unknown (the relay may have it), the row goes back to pending with that said, and the retry
/// carries the same Message-ID.
pub async fn hung_server_times_out(app: &TestApp) {
    let smtp = FakeSmtp::start().await;
    smtp.script([Reply::Hang]);
    let ids = enqueue(app, 1).await;
    let mut settings = smtp_settings(app, smtp.port());
    settings.email.smtp.data_timeout_ms = 1000;
    let w = worker(app, &settings);
    let start = Instant::now();
    let tally = w.tick().await.unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_millis(1500), "attempt took {took:?}");
    assert_eq!(tally.retrying, 1);
    let r = row(app, ids[0]).await;
    assert_eq!((r.status.as_str(), r.attempts), ("pending", 1), "{r:?}");
    assert!(
        r.last_error
            .as_deref()
            .unwrap()
            .starts_with("unknown outcome"),
        "{r:?}"
    );
    tokio::time::sleep(Duration::from_millis(
        app.settings.outbox.backoff_base_ms + 20,
    ))
    .await;
    assert_eq!(w.tick().await.unwrap().sent, 1);
    let tx = smtp.transactions();
    assert_eq!(tx.len(), 2);
    assert_eq!(
        tx[0].message_id, tx[1].message_id,
        "byte-identical Message-ID"
    );
    assert_eq!(tx[1].message_id.as_deref(), Some(r.message_id.as_str()));
    smtp.stop();
}

/// A relay that takes longer than `timeout_ms` (1 s) to answer the end of the message, as RFC
/// 5321 allows (up to 10 minutes): the worker waits for it, and the message arrives once.
pub async fn slow_relay_is_waited_for_not_resent(app: &TestApp) {
    let smtp = FakeSmtp::start().await;
    smtp.set_default(Reply::Slow(Duration::from_millis(1600)));
    let ids = enqueue(app, 3).await;
    let w = worker(app, &smtp_settings(app, smtp.port()));
    let tally = w.tick().await.unwrap();
    assert_eq!(tally.sent, 3, "{tally:?}");
    assert_eq!(smtp.received().len(), 3);
    for id in ids {
        let r = row(app, id).await;
        assert_eq!((r.status.as_str(), r.attempts), ("sent", 1), "{r:?}");
    }
    smtp.stop();
}

/// Two instances (each its own database pool) on one queue, a lease of 2 s and a relay that
/// answers 3 s after storing each message: the sending worker renews its lease, so the other never
/// takes a message over — every message arrives exactly once, in one attempt.
pub async fn lease_is_renewed_while_a_slow_relay_answers(app: &TestApp) {
    let smtp = FakeSmtp::start().await;
    smtp.set_default(Reply::Slow(Duration::from_millis(3000)));
    let ids = enqueue(app, 6).await;
    let settings = smtp_settings(app, smtp.port());
    assert!(
        settings.outbox.lease_ms < 3000,
        "the relay outlasts a lease"
    );
    let mut running = Vec::new();
    for _ in 0..2 {
        let db = jemput::store::connect(&settings.database).await.unwrap();
        let w = Worker::new(db, &settings, Arc::new(Notify::new())).unwrap();
        running.push(spawn_worker(w));
    }
    let all_sent = eventually(Duration::from_secs(20), || async {
        let rows = outbox::list(&app.db, None, None, None, 100).await.unwrap();
        rows.iter().all(|r| r.status == "sent")
    })
    .await;
    // Give a would-be second delivery the time to happen.
    tokio::time::sleep(Duration::from_millis(settings.outbox.lease_ms + 500)).await;
    for (handle, stop) in running {
        let _ = stop.send(());
        handle.await.unwrap();
    }
    assert!(all_sent);
    let got = smtp.received();
    let distinct: HashSet<_> = got.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(
        (got.len(), distinct.len()),
        (6, 6),
        "every message exactly once"
    );
    for id in ids {
        let r = row(app, id).await;
        assert_eq!((r.status.as_str(), r.attempts), ("sent", 1), "{r:?}");
    }
    smtp.stop();
}

/// A worker that died during a message's last allowed attempt: the message is not taken over
/// (that would be one attempt more than `max_attempts`) but marked dead with an unknown outcome;
/// one that died with attempts left is taken over as an attempt of its own.
pub async fn abandoned_last_attempt_is_not_taken_over(app: &TestApp) {
    use sea_orm::{ActiveModelTrait, Set};
    let smtp = FakeSmtp::start().await;
    let ids = enqueue(app, 2).await;
    let max = app.settings.outbox.max_attempts;
    for (id, attempts) in [(ids[0], max), (ids[1], max - 1)] {
        let mut r: email_outbox::ActiveModel = row(app, id).await.into();
        r.status = Set("sending".into());
        r.attempts = Set(attempts);
        r.locked_by = Set(Some("died-1".into()));
        r.locked_until = Set(Some(chrono::Utc::now() - chrono::Duration::seconds(1)));
        r.update(&app.db).await.unwrap();
    }
    let w = worker(app, &smtp_settings(app, smtp.port()));
    let tally = w.tick().await.unwrap();
    assert_eq!(tally.sent, 1, "{tally:?}");
    let last = row(app, ids[0]).await;
    assert_eq!(
        (last.status.as_str(), last.attempts),
        ("dead", max),
        "{last:?}"
    );
    assert!(
        last.last_error
            .as_deref()
            .unwrap()
            .starts_with("unknown outcome"),
        "{last:?}"
    );
    let taken = row(app, ids[1]).await;
    assert_eq!(
        (taken.status.as_str(), taken.attempts),
        ("sent", max),
        "{taken:?}"
    );
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].message_id.as_deref(),
        Some(taken.message_id.as_str())
    );
    smtp.stop();
}

/// E8: Message-IDs are fixed at enqueue, unique, and in the configured domain.
pub async fn message_ids_are_stable_and_unique(app: &TestApp) {
    enqueue(app, 1000).await;
    let rows = outbox::list(&app.db, None, None, None, 10_000)
        .await
        .unwrap();
    let ids: HashSet<&str> = rows.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids.len(), 1000);
    let suffix = format!("@{}>", app.settings.email.message_id_domain);
    assert!(
        rows.iter()
            .all(|r| r.message_id.starts_with('<') && r.message_id.ends_with(&suffix))
    );
}

/// E9: a worker killed after the server has the message but before its 250 is acknowledged: the
/// lease expires, a second worker delivers, and the row ends `sent` once.
pub async fn crashed_worker_lease_is_recovered(app: &TestApp) {
    let smtp = FakeSmtp::start().await;
    let release = Arc::new(Notify::new());
    smtp.script([Reply::Hold(release.clone())]);
    let ids = enqueue(app, 1).await;
    let settings = smtp_settings(app, smtp.port());
    let first = worker(app, &settings);
    let killed = tokio::spawn(async move {
        let _ = first.tick().await;
    });
    assert!(eventually(Duration::from_secs(3), || async { smtp.connections() >= 1 }).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(row(app, ids[0]).await.status, "sending");
    killed.abort();
    let _ = killed.await;
    release.notify_one();

    let second = worker(app, &settings);
    assert_eq!(
        second.tick().await.unwrap().sent,
        0,
        "the lease still holds"
    );
    tokio::time::sleep(Duration::from_millis(
        settings.outbox.lease_ms + settings.outbox.poll_ms,
    ))
    .await;
    assert_eq!(second.tick().await.unwrap().sent, 1);
    let r = row(app, ids[0]).await;
    assert_eq!(r.status, "sent");
    assert_eq!(r.locked_by.as_deref(), Some(second.id()));
    let got = smtp.received();
    assert!(
        !got.is_empty() && got.len() <= 2,
        "{} deliveries",
        got.len()
    );
    assert!(
        got.iter()
            .all(|m| m.message_id.as_deref() == Some(r.message_id.as_str()))
    );
    smtp.stop();
}

/// E10: four workers, each with its own connection pool, drain 200 messages: exactly 200 arrive.
pub async fn parallel_workers_never_double_claim(app: &TestApp) {
    let smtp = FakeSmtp::start().await;
    enqueue(app, 200).await;
    let settings = smtp_settings(app, smtp.port());
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let db = jemput::store::connect(&settings.database).await.unwrap();
        let w = Worker::new(db, &settings, Arc::new(Notify::new())).unwrap();
        tasks.push(tokio::spawn(async move { w.drain().await.unwrap() }));
    }
    let mut sent = 0;
    for t in tasks {
        sent += t.await.unwrap().sent;
    }
    assert_eq!(sent, 200);
    let got = smtp.received();
    assert_eq!(got.len(), 200);
    let ids: HashSet<_> = got.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(ids.len(), 200);
    let rows = outbox::list(&app.db, None, None, None, 1000).await.unwrap();
    assert!(rows.iter().all(|r| r.status == "sent" && r.attempts == 1));
    smtp.stop();
}

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
    assert_eq!(
        body["emails_queued"].as_u64().unwrap() as usize,
        members.len()
    );
    let rows = outbox::list(&app.db, None, None, Some(plan_id), 1000)
        .await
        .unwrap();
    assert_eq!(rows.len(), members.len());
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
    assert_eq!(count().await as usize, members.len());

    // E2: one email per member, each sent on the first attempt.
    let smtp = FakeSmtp::start().await;
    let t = worker(app, &smtp_settings(app, smtp.port()))
        .drain()
        .await
        .unwrap();
    assert_eq!(t.sent, members.len());
    let got = smtp.received();
    assert_eq!(got.len(), members.len());
    let mut to: Vec<String> = got.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    let mut expected: Vec<String> = members.iter().map(|(e, _)| format!("<{e}>")).collect();
    expected.sort();
    assert_eq!(to, expected);
    let rows = outbox::list(&app.db, None, None, Some(plan_id), 1000)
        .await
        .unwrap();
    assert!(rows.iter().all(|r| {
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
    assert_eq!(smtp.received().len(), members.len());
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
    assert!(!sent.is_empty() && sent.iter().all(|r| r.kind == "schedule"));
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
    transient_4xx_is_retried_with_backoff,
    permanent_5xx_fails_without_retry,
    gives_up_after_max_attempts,
    smtp_down_then_up_loses_nothing,
    hung_server_times_out,
    slow_relay_is_waited_for_not_resent,
    dead_emails_are_retried_together,
    lease_is_renewed_while_a_slow_relay_answers,
    abandoned_last_attempt_is_not_taken_over,
    message_ids_are_stable_and_unique,
    crashed_worker_lease_is_recovered,
    parallel_workers_never_double_claim,
);

on_both_backends!(
    demo_plan:
    publishing_queues_each_member_once,
    weekly_trigger_publishes_or_reminds_once,
    a_failing_region_does_not_stop_the_weekly_trigger,
);

/// E14: a full send cycle with SMTP authentication logs the Message-ID but neither the SMTP
/// password nor a recipient's address.
#[test]
fn smtp_password_and_recipients_never_logged() {
    use std::io::Write;
    #[derive(Clone, Default)]
    struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    for backend in [
        crate::helpers::Backend::Sqlite,
        crate::helpers::Backend::Postgres,
    ] {
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        // One thread: every task of the cycle logs through the subscriber set above.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let app = crate::helpers::spawn_app(backend).await;
            let smtp = FakeSmtp::start().await;
            let ids = enqueue(&app, 3).await;
            let mut settings = smtp_settings(&app, smtp.port());
            settings.email.smtp.username = "jemput".into();
            settings.email.smtp.password = jemput::config::Secret::new("s3kret-Passw0rt");
            smtp.script([Reply::Transient]);
            let w = worker(&app, &settings);
            w.drain().await.unwrap();
            tokio::time::sleep(Duration::from_millis(60)).await;
            w.drain().await.unwrap();
            assert_eq!(smtp.received().len(), 3);
            assert!(
                smtp.auth().iter().any(|a| a == "jemput:s3kret-Passw0rt"),
                "the password was used"
            );
            let message_id = row(&app, ids[0]).await.message_id;
            let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
            assert!(
                logs.contains(&message_id),
                "the Message-ID is logged: {logs}"
            );
            assert!(!logs.contains("s3kret-Passw0rt"));
            assert!(!logs.contains("anggota0@tim.example.org"), "{logs}");
            assert!(
                logs.contains("tim.example.org"),
                "the recipient's domain is"
            );
            smtp.stop();
            app.teardown().await;
        });
    }
}
