//! The outbox worker's leases: renewed while a slow relay answers, recovered after a crash, never
//! taken over on the last attempt, and never claimed twice by workers in parallel.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jemput::mail::outbox::Worker;
use jemput::store::entity::email_outbox;
use jemput::store::outbox::{self};
use tokio::sync::Notify;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::outbox::*;
use crate::support::fake_smtp::{FakeSmtp, Reply};

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

on_both_backends!(
    lease_is_renewed_while_a_slow_relay_answers,
    abandoned_last_attempt_is_not_taken_over,
    crashed_worker_lease_is_recovered,
    parallel_workers_never_double_claim,
);
