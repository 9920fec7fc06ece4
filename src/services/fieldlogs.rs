//! What field teams report and managers review: the planned visits a caller reaches, logging a
//! visit once per request (an idempotency key, the log and its flags in one transaction),
//! the log queue, and review (approval feeds next week's ranking and the derived coverage).
//! Shared by the JSON API and the signed per-visit form.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::auth::Principal;
use crate::domain::Coordinate;
use crate::fieldlog::{self, FlagRules, LogInput};
use crate::store::visits::{self as store, Idem};
use crate::store::{Db, StoreError};

pub use crate::store::visits::{Log, LogQuery, Reviewed, VisitQuery, VisitRecord};

/// Whether the caller may see this visit: a field member only their team's, others their
/// regions'. Anything else is "not found", never "forbidden", so ids reveal nothing.
pub fn reaches(p: &Principal, v: &VisitRecord) -> bool {
    p.covers_team(v.team.id, &v.plan.region_code)
}

/// A visit by id (any caller: the signed form has no principal).
pub async fn visit(db: &Db, id: i64) -> Result<Option<VisitRecord>, StoreError> {
    store::find_visit(db, id).await
}

/// The visits matching `query` that `p` reaches, with their current logs by visit id.
pub async fn visits(
    db: &Db,
    p: &Principal,
    query: &VisitQuery,
) -> Result<(Vec<VisitRecord>, HashMap<i64, Log>), StoreError> {
    let mut visits = store::list_visits(db, query).await?;
    visits.retain(|v| reaches(p, v));
    let logs = store::current_logs(db, &visits).await?;
    Ok((visits, logs))
}

/// Every visit of a region's week with its current log (a report: no caller filter).
pub async fn week_of(
    db: &Db,
    region: &crate::domain::RegionCode,
    week: &str,
) -> Result<(Vec<VisitRecord>, HashMap<i64, Log>), StoreError> {
    let query = VisitQuery {
        region: Some(region.clone()),
        team: None,
        week: Some(week.to_string()),
    };
    let visits = store::list_visits(db, &query).await?;
    let logs = store::current_logs(db, &visits).await?;
    Ok((visits, logs))
}

/// Official coverage against coverage derived from approved logs, per kecamatan and indicator.
pub async fn coverage_changes(
    db: &Db,
    region: &crate::domain::RegionCode,
) -> Result<Vec<store::CoverageChange>, StoreError> {
    store::coverage_changes(db, region).await
}

pub async fn current_log(db: &Db, v: &VisitRecord) -> Result<Option<Log>, StoreError> {
    store::current_log(db, v).await
}

/// Every revision of a visit's log, oldest first.
pub async fn history(db: &Db, v: &VisitRecord) -> Result<Vec<Log>, StoreError> {
    store::log_history(db, v).await
}

pub async fn log(db: &Db, id: i64) -> Result<Option<Log>, StoreError> {
    store::log_by_id(db, id).await
}

/// Current revisions matching the query, newest visit first.
pub async fn logs(db: &Db, q: &LogQuery) -> Result<Vec<Log>, StoreError> {
    store::list_logs(db, q).await
}

/// What the flags of a visit's log are measured against. Its `time_zone` (the region's) is also
/// the zone the form's HH:MM times are read in.
pub async fn facts(
    db: &Db,
    v: &VisitRecord,
    minutes_per_person: &std::collections::BTreeMap<String, f64>,
) -> Result<fieldlog::VisitFacts, StoreError> {
    let tz: chrono_tz::Tz = crate::store::plans::region_name_tz(db, &v.plan.region_code)
        .await?
        .and_then(|(_, tz)| tz.parse().ok())
        .unwrap_or(chrono_tz::Asia::Jakarta);
    Ok(fieldlog::VisitFacts {
        site: Coordinate::new(v.site.lat, v.site.lon).ok(),
        visit_date: v.stop.day,
        time_zone: tz,
        kits: v.team.kits.max(1) as u32,
        minutes_per_person: minutes_per_person.clone(),
    })
}

/// The outcome of logging a visit under an idempotency key.
pub enum Logged {
    Created(Box<Log>),
    /// The same request was made before: its answer as it was given.
    Replay {
        status: u16,
        body: String,
    },
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key has not finished.
    InProgress,
}

/// Who logs, under which idempotency key.
pub struct Request<'a> {
    /// The key's scope (`user:ID`, or `link:TEAM:STOP` for the form).
    pub scope: &'a str,
    pub key: &'a str,
    pub actor: &'a str,
    pub ttl: chrono::Duration,
}

/// Log a visit: claim the key, write a new revision with its flags, and save the answer
/// (`answer` renders it, e.g. the API's JSON) for replays — all in one transaction.
#[allow(clippy::too_many_arguments)]
pub async fn log_visit(
    db: &Db,
    v: &VisitRecord,
    facts: &fieldlog::VisitFacts,
    rules: &FlagRules,
    input: &LogInput,
    req: &Request<'_>,
    today: DateTime<Utc>,
    answer: impl Fn(&Log) -> String,
) -> Result<Logged, StoreError> {
    let now = Utc::now();
    // Lateness and "logged before the visit" are calendar questions: the injected clock.
    let flags = fieldlog::flags(input, facts, rules, today);
    // The fingerprint covers the visit and the parsed body: the same key on another visit, or
    // with other numbers, is a different request.
    let canonical = serde_json::to_vec(&(v.stop.id, input)).expect("a log input serialises");
    let hash = crate::auth::sha256_hex(&canonical);
    let txn = crate::store::begin_write(db).await?;
    match store::idem_begin(&txn, req.scope, req.key, &hash, now, req.ttl).await? {
        Idem::Proceed => {}
        Idem::Replay { status, body } => return Ok(Logged::Replay { status, body }),
        Idem::Mismatch => return Ok(Logged::Mismatch),
        Idem::InProgress => return Ok(Logged::InProgress),
    }
    let log = store::add_log(&txn, v, input, &flags, req.actor, now).await?;
    store::idem_finish(&txn, req.scope, req.key, 201, &answer(&log)).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(Logged::Created(Box::new(log)))
}

/// Approve or reject a log the reviewer's region reaches (`Reviewed::NotFound` otherwise).
pub async fn review(
    db: &Db,
    p: &Principal,
    id: i64,
    approve: bool,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<Reviewed, StoreError> {
    let reachable = store::log_by_id(db, id)
        .await?
        .is_some_and(|l| p.covers_region(&l.region_code));
    if !reachable {
        return Ok(Reviewed::NotFound);
    }
    store::review_log(db, id, approve, comment, &p.actor(), now).await
}
