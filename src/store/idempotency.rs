//! Idempotency keys: a request's key claimed inside the caller's write transaction, its answer
//! saved for replays, expired keys purged.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, Set,
};

use sea_orm::sea_query::Expr;

use super::StoreError;
use super::entity::idempotency_keys;

pub enum Idem {
    /// The key is new: the caller does the work and `idem_finish`es in the same transaction.
    Proceed,
    /// Seen with the same request: the saved answer.
    Replay { status: u16, body: String },
    /// Seen with a different request body.
    Mismatch,
    /// The first request with this key has not finished.
    InProgress,
}

/// Claim an idempotency key inside the caller's write transaction (insert first: a concurrent
/// duplicate waits on the unique index, then sees the finished row).
pub async fn idem_begin(
    txn: &DatabaseTransaction,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> Result<Idem, StoreError> {
    // An expired key is forgotten: the same key starts a new request.
    idempotency_keys::Entity::delete_many()
        .filter(idempotency_keys::Column::Scope.eq(scope))
        .filter(idempotency_keys::Column::Key.eq(key))
        .filter(idempotency_keys::Column::ExpiresAt.lte(now))
        .exec(txn)
        .await?;
    let inserted = matches!(
        idempotency_keys::Entity::insert(idempotency_keys::ActiveModel {
            scope: Set(scope.to_string()),
            key: Set(key.to_string()),
            request_hash: Set(request_hash.to_string()),
            state: Set("in_progress".into()),
            response_status: Set(None),
            response_body: Set(None),
            created_at: Set(now),
            expires_at: Set(now + ttl),
            ..Default::default()
        })
        .on_conflict_do_nothing_on([
            idempotency_keys::Column::Scope,
            idempotency_keys::Column::Key,
        ])
        .exec_without_returning(txn)
        .await?,
        sea_orm::TryInsertResult::Inserted(n) if n > 0
    );
    if inserted {
        return Ok(Idem::Proceed);
    }
    let Some(row) = idempotency_keys::Entity::find()
        .filter(idempotency_keys::Column::Scope.eq(scope))
        .filter(idempotency_keys::Column::Key.eq(key))
        .one(txn)
        .await?
    else {
        return Ok(Idem::InProgress);
    };
    if row.request_hash != request_hash {
        return Ok(Idem::Mismatch);
    }
    match (row.state.as_str(), row.response_status, row.response_body) {
        ("done", Some(status), Some(body)) => Ok(Idem::Replay {
            status: status as u16,
            body,
        }),
        _ => Ok(Idem::InProgress),
    }
}

pub async fn idem_finish(
    txn: &DatabaseTransaction,
    scope: &str,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), StoreError> {
    idempotency_keys::Entity::update_many()
        .col_expr(idempotency_keys::Column::State, Expr::value("done"))
        .col_expr(
            idempotency_keys::Column::ResponseStatus,
            Expr::value(i32::from(status)),
        )
        .col_expr(idempotency_keys::Column::ResponseBody, Expr::value(body))
        .filter(idempotency_keys::Column::Scope.eq(scope))
        .filter(idempotency_keys::Column::Key.eq(key))
        .exec(txn)
        .await?;
    Ok(())
}

/// Forget expired keys (the worker calls this now and then).
pub async fn purge_idempotency_keys(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(idempotency_keys::Entity::delete_many()
        .filter(idempotency_keys::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}
