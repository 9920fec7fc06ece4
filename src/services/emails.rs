//! The email outbox as people handle it: list what was queued and sent, and put failed or dead
//! emails back in the queue (one, or all of a plan or region after an outage), audited. Shared by
//! `GET/POST /api/v1/outbox…` and `jemput outbox`.

use chrono::{DateTime, Utc};

use crate::domain::RegionCode;
use crate::store::outbox::{self as store, Retry};
use crate::store::{Db, StoreError};

pub use crate::store::outbox::Email;

/// Every status an email can have, in the order it moves through them.
pub const STATUSES: [&str; 5] = ["pending", "sending", "sent", "failed", "dead"];

/// The statuses a person may put back in the queue.
const RETRIABLE: [&str; 2] = ["failed", "dead"];

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// A status filter that is not one of [`STATUSES`] (or, for a retry, not failed/dead).
    #[error("status: salah satu dari / one of {allowed}, bukan / not {given:?}")]
    BadStatus { given: String, allowed: String },
    /// No such email, or not one the caller's region reaches (ids reveal nothing).
    #[error("Email {0} tidak ditemukan / email not found")]
    NotFound(i64),
    #[error(
        "Email {id} berstatus {status}; hanya failed atau dead yang bisa diulang / only failed or dead emails can be retried"
    )]
    NotRetriable { id: i64, status: String },
    /// A bulk retry without any filter: too easy to do by accident.
    #[error(
        "sebutkan status, rencana atau wilayah untuk mengulang sekaligus / name a status, plan or region"
    )]
    NoFilter,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What to list: all filters optional; `scope` is the caller's region (`None` = everything).
#[derive(Debug, Clone, Default)]
pub struct Listing<'a> {
    pub scope: Option<&'a RegionCode>,
    pub status: Option<&'a str>,
    pub plan: Option<i64>,
    pub limit: u64,
}

/// Emails oldest first.
pub async fn list(db: &Db, q: &Listing<'_>) -> Result<Vec<Email>, EmailError> {
    if let Some(s) = q.status
        && !STATUSES.contains(&s)
    {
        return Err(EmailError::BadStatus {
            given: s.to_string(),
            allowed: STATUSES.join(", "),
        });
    }
    Ok(store::list(db, q.scope, q.status, q.plan, q.limit).await?)
}

/// Put one failed or dead email back in the queue (same Message-ID, fresh attempts).
pub async fn retry(
    db: &Db,
    scope: Option<&RegionCode>,
    id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Email, EmailError> {
    let reachable = store::get(db, id).await?.is_some_and(|m| {
        scope.is_none_or(|r| crate::auth::region_within(&m.region_code, r.as_str()))
    });
    if !reachable {
        return Err(EmailError::NotFound(id));
    }
    match store::retry(db, id, actor, now).await? {
        Retry::NotFound => Err(EmailError::NotFound(id)),
        Retry::NotRetriable(status) => Err(EmailError::NotRetriable { id, status }),
        Retry::Requeued(row) => Ok(*row),
    }
}

/// Which failed or dead emails a bulk retry puts back.
#[derive(Debug, Clone, Default)]
pub struct RetryMany {
    /// `failed` or `dead`; `None` = both.
    pub status: Option<String>,
    pub plan: Option<i64>,
    /// A kabupaten/kota or finer, already checked to be inside the caller's scope.
    pub region: Option<RegionCode>,
    /// Refuse a retry with no filter at all (the command line asks for one).
    pub require_filter: bool,
}

/// Put every failed/dead email matching `what` inside `scope` back in the queue, audited, in one
/// transaction; returns their ids.
pub async fn retry_many(
    db: &Db,
    scope: Option<&RegionCode>,
    what: RetryMany,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, EmailError> {
    let statuses = match what.status.as_deref().map(str::trim) {
        None | Some("") => Vec::new(),
        Some(s) if RETRIABLE.contains(&s) => vec![s.to_string()],
        Some(other) => {
            return Err(EmailError::BadStatus {
                given: other.to_string(),
                allowed: RETRIABLE.join(", "),
            });
        }
    };
    if what.require_filter && statuses.is_empty() && what.plan.is_none() && what.region.is_none() {
        return Err(EmailError::NoFilter);
    }
    let filter = store::RetryFilter {
        statuses,
        plan: what.plan,
        region: what.region,
    };
    Ok(store::retry_many(db, scope, &filter, actor, now).await?)
}
