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

pub async fn enqueue(app: &TestApp, n: usize) -> Vec<i64> {
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
            ..Default::default()
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

pub async fn post(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.post(app.url(path)).send().await.unwrap()
}

pub async fn row(app: &TestApp, id: i64) -> email_outbox::Model {
    use sea_orm::EntityTrait;
    email_outbox::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("outbox row")
}

/// Poll `cond` every 20 ms until it holds or `limit` passes; returns whether it held.
pub async fn eventually<F, Fut>(limit: Duration, mut cond: F) -> bool
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

pub fn spawn_worker(
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
            ..Default::default()
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

on_both_backends!(
    transient_4xx_is_retried_with_backoff,
    permanent_5xx_fails_without_retry,
    gives_up_after_max_attempts,
    smtp_down_then_up_loses_nothing,
    hung_server_times_out,
    slow_relay_is_waited_for_not_resent,
    dead_emails_are_retried_together,
    message_ids_are_stable_and_unique,
);

/// E14: a full send cycle with SMTP authentication logs the Message-ID but neither the SMTP
/// password nor a recipient's address.
#[test]
pub fn smtp_password_and_recipients_never_logged() {
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
