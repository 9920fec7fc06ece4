//! The email outbox table: enqueue inside the caller's transaction, claim with a lease, and
//! record the result fenced by the claiming worker's id.
//!
//! Claiming is one short write transaction: pick due rows (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, so concurrent workers skip each other's rows; SQLite has one writer and the
//! transaction is `BEGIN IMMEDIATE`, so the pick and the update are atomic there too), then mark
//! them `sending` with `locked_by`/`locked_until`, repeating the eligibility predicate in the
//! UPDATE so a row another worker took in between is not taken twice. Sending happens outside
//! any transaction; a worker that dies leaves its rows to be re-claimed when the lease expires.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TryInsertResult,
};

use super::entity::email_outbox::{self, Column, Entity};
use super::{StoreError, begin_write};

/// A message to queue; the Message-ID is chosen here, once.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub dedupe_key: String,
    pub kind: String,
    pub plan_id: Option<i64>,
    pub team_id: Option<i64>,
    pub region_code: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub ics: Option<String>,
    /// The site a notice is about.
    pub site_id: Option<i64>,
    /// Not sent before this moment (a notice goes out its lead days before the visit); `None`:
    /// at once.
    pub send_at: Option<DateTime<Utc>>,
}

/// One queued message as the worker, the API and the command line see it: a plain copy of its
/// row, so that nothing outside the store depends on the table's entity.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Email {
    pub id: i64,
    pub dedupe_key: String,
    pub message_id: String,
    /// `schedule`, `change` or `reminder`.
    pub kind: String,
    pub plan_id: Option<i64>,
    pub team_id: Option<i64>,
    pub region_code: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub ics: Option<String>,
    /// `pending`, `sending`, `sent`, `failed` or `dead`.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub smtp_response: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub site_id: Option<i64>,
}

impl From<email_outbox::Model> for Email {
    fn from(m: email_outbox::Model) -> Self {
        let email_outbox::Model {
            id,
            dedupe_key,
            message_id,
            kind,
            plan_id,
            team_id,
            region_code,
            recipient,
            language,
            subject,
            body_text,
            body_html,
            ics,
            status,
            attempts,
            max_attempts,
            next_attempt_at,
            locked_by,
            locked_until,
            last_error,
            smtp_response,
            created_at,
            sent_at,
            site_id,
        } = m;
        Email {
            id,
            dedupe_key,
            message_id,
            kind,
            plan_id,
            team_id,
            region_code,
            recipient,
            language,
            subject,
            body_text,
            body_html,
            ics,
            status,
            attempts,
            max_attempts,
            next_attempt_at,
            locked_by,
            locked_until,
            last_error,
            smtp_response,
            created_at,
            sent_at,
            site_id,
        }
    }
}

fn emails(rows: Vec<email_outbox::Model>) -> Vec<Email> {
    rows.into_iter().map(Email::from).collect()
}

/// `<random@domain>`: unique per row and the same on every retry of that row.
pub fn new_message_id(domain: &str) -> String {
    format!("<{}@{}>", uuid::Uuid::new_v4().simple(), domain)
}

/// Queue messages on `conn` (the caller's transaction). A message whose dedupe key is already
/// queued is skipped; returns how many rows were added.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    messages: &[NewMessage],
    max_attempts: i32,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut added = 0;
    for m in messages {
        let row = email_outbox::ActiveModel {
            id: NotSet,
            dedupe_key: Set(m.dedupe_key.clone()),
            message_id: Set(new_message_id(domain)),
            kind: Set(m.kind.clone()),
            plan_id: Set(m.plan_id),
            team_id: Set(m.team_id),
            region_code: Set(m.region_code.clone()),
            recipient: Set(m.recipient.clone()),
            language: Set(m.language.clone()),
            subject: Set(m.subject.clone()),
            body_text: Set(m.body_text.clone()),
            body_html: Set(m.body_html.clone()),
            ics: Set(m.ics.clone()),
            status: Set("pending".into()),
            attempts: Set(0),
            max_attempts: Set(max_attempts),
            next_attempt_at: Set(m.send_at.unwrap_or(now)),
            locked_by: Set(None),
            locked_until: Set(None),
            last_error: Set(None),
            smtp_response: Set(None),
            created_at: Set(now),
            sent_at: Set(None),
            site_id: Set(m.site_id),
        };
        match Entity::insert(row)
            .on_conflict_do_nothing_on([Column::DedupeKey])
            .exec_without_returning(conn)
            .await?
        {
            TryInsertResult::Inserted(n) => added += n,
            TryInsertResult::Empty | TryInsertResult::Conflicted => {}
        }
    }
    Ok(added)
}

/// A `sending` row whose worker stopped renewing its lease.
fn abandoned(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(Column::Status.eq("sending"))
        .add(Column::LockedUntil.lt(now))
}

/// Due: pending and its time has come, or abandoned with attempts left. An abandoned row that
/// used its last attempt is never taken over (that would be one attempt more than allowed).
fn due(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(Column::Status.eq("pending"))
                .add(Column::NextAttemptAt.lte(now)),
        )
        .add(abandoned(now).add(Expr::col(Column::Attempts).lt(Expr::col(Column::MaxAttempts))))
}

/// What a worker that lost its lease on the last attempt leaves: the relay may or may not have
/// the message, and no attempt is left, so it is `dead` for a person to look at and retry.
const LOST_LAST_ATTEMPT: &str = "unknown outcome: the worker's lease expired during the last attempt; the relay may or may not have the message";

/// Claim up to `limit` due messages for `worker` until `now + lease`.
pub async fn claim(
    db: &DatabaseConnection,
    worker: &str,
    limit: u64,
    lease: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Email>, StoreError> {
    let txn = begin_write(db).await?;
    Entity::update_many()
        .col_expr(Column::Status, Expr::value("dead"))
        .col_expr(Column::LastError, Expr::value(LOST_LAST_ATTEMPT))
        .col_expr(
            Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(abandoned(now))
        .filter(Expr::col(Column::Attempts).gte(Expr::col(Column::MaxAttempts)))
        .exec(&txn)
        .await?;
    let ids: Vec<i64> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(due(now))
        .order_by_asc(Column::NextAttemptAt)
        .order_by_asc(Column::Id)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .into_tuple()
        .all(&txn)
        .await?;
    if ids.is_empty() {
        txn.commit().await?;
        return Ok(Vec::new());
    }
    Entity::update_many()
        .col_expr(Column::Status, Expr::value("sending"))
        .col_expr(Column::LockedBy, Expr::value(worker))
        .col_expr(Column::LockedUntil, Expr::value(now + lease))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.is_in(ids.clone()))
        .filter(due(now))
        .exec(&txn)
        .await?;
    let claimed = Entity::find()
        .filter(Column::Id.is_in(ids))
        .filter(Column::LockedBy.eq(worker))
        .filter(Column::Status.eq("sending"))
        .order_by_asc(Column::Id)
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(emails(claimed))
}

/// Fenced by the lease holder: a worker whose lease was taken over changes nothing.
fn fenced(id: i64, worker: &str) -> Condition {
    Condition::all()
        .add(Column::Id.eq(id))
        .add(Column::LockedBy.eq(worker))
        .add(Column::Status.eq("sending"))
}

/// Extend a lease the worker still holds; false when another worker has taken the row over.
pub async fn renew(
    db: &DatabaseConnection,
    id: i64,
    worker: &str,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = Entity::update_many()
        .col_expr(Column::LockedUntil, Expr::value(until))
        .filter(fenced(id, worker))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn mark_sent(
    db: &DatabaseConnection,
    id: i64,
    worker: &str,
    response: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = Entity::update_many()
        .col_expr(Column::Status, Expr::value("sent"))
        .col_expr(Column::SmtpResponse, Expr::value(response))
        .col_expr(Column::SentAt, Expr::value(now))
        .col_expr(
            Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(fenced(id, worker))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// A transient failure: back to `pending` at `next_at`, or `dead` when out of attempts.
pub async fn mark_retry(
    db: &DatabaseConnection,
    row: &Email,
    worker: &str,
    error: &str,
    next_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let status = if row.attempts >= row.max_attempts {
        "dead"
    } else {
        "pending"
    };
    let r = Entity::update_many()
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::LastError, Expr::value(error))
        .col_expr(Column::NextAttemptAt, Expr::value(next_at))
        .col_expr(
            Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(fenced(row.id, worker))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// A permanent failure: `failed` at once, never retried by the worker.
pub async fn mark_failed(
    db: &DatabaseConnection,
    id: i64,
    worker: &str,
    error: &str,
) -> Result<bool, StoreError> {
    let r = Entity::update_many()
        .col_expr(Column::Status, Expr::value("failed"))
        .col_expr(Column::LastError, Expr::value(error))
        .col_expr(
            Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(fenced(id, worker))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn list(
    db: &DatabaseConnection,
    scope: Option<&crate::domain::RegionCode>,
    status: Option<&str>,
    plan: Option<i64>,
    limit: u64,
) -> Result<Vec<Email>, StoreError> {
    let mut q = Entity::find();
    if let Some(r) = scope {
        q = q.filter(super::within(Column::RegionCode, r));
    }
    if let Some(s) = status {
        q = q.filter(Column::Status.eq(s));
    }
    if let Some(p) = plan {
        q = q.filter(Column::PlanId.eq(p));
    }
    Ok(emails(
        q.order_by_asc(Column::Id).limit(limit).all(db).await?,
    ))
}

pub async fn get(db: &DatabaseConnection, id: i64) -> Result<Option<Email>, StoreError> {
    Ok(Entity::find_by_id(id).one(db).await?.map(Email::from))
}

/// What a manual retry did.
#[derive(Debug)]
pub enum Retry {
    NotFound,
    /// Only `failed` and `dead` messages are retried by hand; the others are on their way.
    NotRetriable(String),
    Requeued(Box<Email>),
}

/// Put a `failed` or `dead` message back in the queue with a fresh set of attempts (and the same
/// Message-ID).
pub async fn retry(
    db: &DatabaseConnection,
    id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Retry, StoreError> {
    let txn = begin_write(db).await?;
    let Some(row) = Entity::find_by_id(id).one(&txn).await? else {
        return Ok(Retry::NotFound);
    };
    if row.status != "failed" && row.status != "dead" {
        return Ok(Retry::NotRetriable(row.status));
    }
    let previous = row.status;
    requeue(&txn, &[id], now).await?;
    let row = Entity::find_by_id(id)
        .one(&txn)
        .await?
        .expect("the row was read in this transaction");
    super::accounts::audit(
        &txn,
        actor,
        "outbox.retry",
        "email_outbox",
        &id.to_string(),
        serde_json::json!({ "region": row.region_code, "statuses": [previous], "ids": [id] }),
    )
    .await?;
    txn.commit().await?;
    Ok(Retry::Requeued(Box::new(row.into())))
}

/// Failed or dead rows back to `pending`, due now, with a fresh set of attempts (same Message-ID).
async fn requeue<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        Entity::update_many()
            .col_expr(Column::Status, Expr::value("pending"))
            .col_expr(Column::Attempts, Expr::value(0))
            .col_expr(Column::NextAttemptAt, Expr::value(now))
            .col_expr(Column::LockedBy, Expr::value(Option::<String>::None))
            .filter(Column::Id.is_in(chunk.to_vec()))
            .filter(Column::Status.is_in(["failed", "dead"]))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Which failed or dead messages a bulk retry puts back in the queue.
#[derive(Debug, Clone, Default)]
pub struct RetryFilter {
    /// `failed`, `dead` or both (empty).
    pub statuses: Vec<String>,
    pub plan: Option<i64>,
    /// The region asked for (a kabupaten/kota or finer); `None` = all the caller may see.
    pub region: Option<crate::domain::RegionCode>,
}

/// Put every failed/dead message that matches `filter` inside `scope` back in the queue with a
/// fresh set of attempts, and record it in the audit trail, in one transaction. Returns the ids.
pub async fn retry_many(
    db: &DatabaseConnection,
    scope: Option<&crate::domain::RegionCode>,
    filter: &RetryFilter,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let statuses: Vec<String> = if filter.statuses.is_empty() {
        vec!["failed".into(), "dead".into()]
    } else {
        filter.statuses.clone()
    };
    let txn = begin_write(db).await?;
    let mut q = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Status.is_in(statuses.clone()));
    if let Some(r) = scope {
        q = q.filter(super::within(Column::RegionCode, r));
    }
    if let Some(r) = &filter.region {
        q = q.filter(super::within(Column::RegionCode, r));
    }
    if let Some(p) = filter.plan {
        q = q.filter(Column::PlanId.eq(p));
    }
    let ids: Vec<i64> = q
        .order_by_asc(Column::Id)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .into_tuple()
        .all(&txn)
        .await?;
    if !ids.is_empty() {
        requeue(&txn, &ids, now).await?;
        super::accounts::audit(
            &txn,
            actor,
            "outbox.retry",
            "email_outbox",
            &format!("{} emails", ids.len()),
            serde_json::json!({
                "statuses": statuses, "plan": filter.plan,
                "region": filter.region.as_ref().or(scope).map(|r| r.as_str()),
                "ids": ids,
            }),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(ids)
}
