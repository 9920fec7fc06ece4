//! The outbox worker: claims due messages with a lease, sends them, records the outcome.
//!
//! At-least-once: a message is marked sent only after the server accepted it, so a crash between
//! the two resends it (with the same Message-ID, which lets mail stores drop the duplicate). The
//! lease is renewed while a send lasts, so a slow relay is never mistaken for a dead worker; a
//! takeover counts as an attempt, and a message whose last attempt was abandoned is not taken over.
//! Transient failures back off exponentially with jitter up to `max_attempts`; permanent ones
//! fail at once. Runs inside `serve` and as `jemput worker`; several workers (and processes on
//! PostgreSQL) share the queue safely.

use std::sync::Arc;
use std::time::Duration;

use crate::store::Db;
use chrono::Utc;
use lettre::message::Mailbox;
use tokio::sync::Notify;

use crate::config::{OutboxSettings, Settings};
use crate::mail::transport::{Mailer, Outgoing, SendError};
use crate::store::{StoreError, outbox};

/// `min(cap, base · 2^(attempt−1)) · (0.5 + 0.5 · jitter)` for `jitter` in [0, 1].
pub fn backoff(attempt: i32, base_ms: u64, cap_ms: u64, jitter: f64) -> Duration {
    let exp = attempt.clamp(1, 31) as u32 - 1;
    let raw = base_ms.saturating_mul(1u64 << exp.min(40)).min(cap_ms);
    Duration::from_millis((raw as f64 * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))) as u64)
}

/// Only the domain of an address goes into logs.
fn domain_of(recipient: &str) -> &str {
    recipient
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>'))
        .unwrap_or("?")
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    pub dead: usize,
}

#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    mailer: Mailer,
    from: Mailbox,
    /// Reply-To per region code (the coordinator of that kabupaten/kota).
    reply_to: std::collections::BTreeMap<String, Mailbox>,
    cfg: OutboxSettings,
    id: String,
    wake: Arc<Notify>,
}

impl Worker {
    pub fn new(db: Db, settings: &Settings, wake: Arc<Notify>) -> Result<Self, SendError> {
        let mailer = Mailer::from_settings(&settings.email)?;
        let from = settings
            .email
            .from
            .parse()
            .map_err(|e| SendError::Permanent(format!("email.from: {e}")))?;
        let mut reply_to = std::collections::BTreeMap::new();
        for (region, c) in &settings.email.contacts {
            // Built from its parts: a display name may hold anything ("(contoh)", commas).
            let address = c
                .email
                .parse()
                .map_err(|e| SendError::Permanent(format!("email.contacts.{region}.email: {e}")))?;
            let mailbox = Mailbox::new(Some(c.name.clone()), address);
            reply_to.insert(region.clone(), mailbox);
        }
        let mut worker = Self::with_mailer(db, mailer, from, settings.outbox.clone(), wake);
        Arc::get_mut(&mut worker.inner)
            .expect("not shared yet")
            .reply_to = reply_to;
        Ok(worker)
    }

    pub fn with_mailer(
        db: Db,
        mailer: Mailer,
        from: Mailbox,
        cfg: OutboxSettings,
        wake: Arc<Notify>,
    ) -> Self {
        let id = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Self {
            inner: Arc::new(Inner {
                db,
                mailer,
                from,
                reply_to: Default::default(),
                cfg,
                id,
                wake,
            }),
        }
    }

    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Claim one batch and send it concurrently; returns what happened.
    pub async fn tick(&self) -> Result<Tally, StoreError> {
        let me = &self.inner;
        let lease = chrono::Duration::milliseconds(me.cfg.lease_ms as i64);
        let rows =
            outbox::claim(&me.db, &me.id, me.cfg.concurrency as u64, lease, Utc::now()).await?;
        let mut set = tokio::task::JoinSet::new();
        for row in rows {
            let w = self.clone();
            set.spawn(async move { w.deliver(row).await });
        }
        let mut tally = Tally::default();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(Ok(outcome)) => match outcome {
                    Outcome::Sent => tally.sent += 1,
                    Outcome::Retrying => tally.retrying += 1,
                    Outcome::Failed => tally.failed += 1,
                    Outcome::Dead => tally.dead += 1,
                },
                Ok(Err(e)) => return Err(e),
                Err(e) => tracing::error!(error = %e, "outbox send task panicked"),
            }
        }
        Ok(tally)
    }

    async fn deliver(&self, row: outbox::Email) -> Result<Outcome, StoreError> {
        let me = &self.inner;
        let out = Outgoing {
            message_id: &row.message_id,
            recipient: &row.recipient,
            subject: &row.subject,
            text: &row.body_text,
            html: &row.body_html,
            ics: row.ics.as_deref(),
            // The region's own contact, else its kabupaten's or province's.
            reply_to: crate::domain::RegionCode::parse(&row.region_code)
                .ok()
                .and_then(|r| r.lineage().iter().find_map(|c| me.reply_to.get(c.as_str()))),
        };
        let result = self.send_renewing(&row, &out).await;
        let domain = domain_of(&row.recipient);
        let now = Utc::now();
        let outcome = match result {
            Ok(response) => {
                if !outbox::mark_sent(&me.db, row.id, &me.id, &response, now).await? {
                    tracing::warn!(
                        outbox_id = row.id,
                        "sent, but the lease had passed to another worker"
                    );
                }
                tracing::info!(outbox_id = row.id, message_id = %row.message_id, recipient_domain = domain, attempt = row.attempts, %response, "email sent");
                Outcome::Sent
            }
            Err(err @ (SendError::Transient(_) | SendError::Unknown(_))) => {
                let wait = backoff(
                    row.attempts,
                    me.cfg.backoff_base_ms,
                    me.cfg.backoff_cap_ms,
                    fastrand::f64(),
                );
                let next = now + chrono::Duration::from_std(wait).unwrap_or_default();
                let e = match err {
                    SendError::Unknown(e) => format!("unknown outcome: {e}"),
                    SendError::Transient(e) | SendError::Permanent(e) => e,
                };
                outbox::mark_retry(&me.db, &row, &me.id, &e, next).await?;
                if row.attempts >= row.max_attempts {
                    tracing::error!(outbox_id = row.id, message_id = %row.message_id, recipient_domain = domain, attempts = row.attempts, error = %e, "email dead: out of attempts");
                    Outcome::Dead
                } else {
                    tracing::warn!(outbox_id = row.id, message_id = %row.message_id, recipient_domain = domain, attempts = row.attempts, retry_in_ms = wait.as_millis() as u64, error = %e, "email deferred");
                    Outcome::Retrying
                }
            }
            Err(SendError::Permanent(e)) => {
                outbox::mark_failed(&me.db, row.id, &me.id, &e).await?;
                tracing::error!(outbox_id = row.id, message_id = %row.message_id, recipient_domain = domain, error = %e, "email failed permanently");
                Outcome::Failed
            }
        };
        Ok(outcome)
    }

    /// Send while renewing the lease every third of its length, so that a slow relay (RFC 5321
    /// allows 10 minutes for the reply to a message) never makes the message look abandoned to
    /// the other workers. A renewal that finds the row taken over is logged; the send goes on
    /// (stopping it could not unsend what the relay may already have).
    async fn send_renewing(
        &self,
        row: &outbox::Email,
        out: &Outgoing<'_>,
    ) -> Result<String, SendError> {
        let me = &self.inner;
        let lease = chrono::Duration::milliseconds(me.cfg.lease_ms as i64);
        let every = Duration::from_millis((me.cfg.lease_ms / 3).max(1));
        let send = me.mailer.send(&me.from, out);
        tokio::pin!(send);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut held = true;
        loop {
            tokio::select! {
                result = &mut send => return result,
                _ = ticker.tick(), if held => {
                    match outbox::renew(&me.db, row.id, &me.id, Utc::now() + lease).await {
                        Ok(true) => {}
                        Ok(false) => {
                            held = false;
                            tracing::warn!(outbox_id = row.id, "lease lost during the send; another worker has the message");
                        }
                        Err(e) => tracing::warn!(outbox_id = row.id, error = %e, "could not renew the lease; retrying at the next tick"),
                    }
                }
            }
        }
    }

    /// Send until nothing is due (messages waiting for a later retry stay queued).
    pub async fn drain(&self) -> Result<Tally, StoreError> {
        let mut total = Tally::default();
        loop {
            let t = self.tick().await?;
            if t == Tally::default() {
                return Ok(total);
            }
            total.sent += t.sent;
            total.retrying += t.retrying;
            total.failed += t.failed;
            total.dead += t.dead;
        }
    }

    /// Work until `shutdown` resolves: after a busy tick go again at once, otherwise wait for a
    /// wake-up (a plan was published in this process) or the poll interval. A database error is
    /// logged and retried after the poll interval; it never stops the worker.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let poll = Duration::from_millis(self.inner.cfg.poll_ms);
        tracing::info!(worker = %self.inner.id, "outbox worker started");
        loop {
            let busy = match self.tick().await {
                Ok(t) => t != Tally::default(),
                Err(e) => {
                    tracing::error!(error = %e, "outbox worker: database error");
                    false
                }
            };
            if busy {
                // Stop between batches, never in the middle of one.
                if futures_ready(&mut shutdown).await {
                    break;
                }
                continue;
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
        tracing::info!(worker = %self.inner.id, "outbox worker stopped");
    }
}

/// Whether a future has already completed, without waiting for it.
async fn futures_ready<F: Future<Output = ()>>(f: &mut std::pin::Pin<&mut F>) -> bool {
    tokio::select! {
        biased;
        _ = f.as_mut() => true,
        _ = std::future::ready(()) => false,
    }
}

enum Outcome {
    Sent,
    Retrying,
    Failed,
    Dead,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_halves_at_most() {
        assert_eq!(backoff(1, 100, 10_000, 1.0), Duration::from_millis(100));
        assert_eq!(backoff(2, 100, 10_000, 1.0), Duration::from_millis(200));
        assert_eq!(backoff(4, 100, 10_000, 1.0), Duration::from_millis(800));
        assert_eq!(backoff(4, 100, 10_000, 0.0), Duration::from_millis(400));
        assert_eq!(backoff(30, 100, 10_000, 1.0), Duration::from_millis(10_000));
        assert_eq!(backoff(0, 100, 10_000, 1.0), Duration::from_millis(100));
    }

    #[test]
    fn only_the_domain_of_a_recipient_is_logged() {
        assert_eq!(
            domain_of("Rina <rina@dukcapil.example.org>"),
            "dukcapil.example.org"
        );
        assert_eq!(domain_of("x@y.id"), "y.id");
    }
}
