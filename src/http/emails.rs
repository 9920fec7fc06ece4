//! The email outbox: list, and put failed or dead emails back in the queue.

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::auth::{PLANNERS, STAFF, require, scope_of};
use super::params::{
    MAX_LIMIT, Query, auth_header, in_scope, json, json_or_empty, param, region_param, reply,
    with_state,
};
use super::{ApiError, AppState};
use crate::services::emails;

/// /api/v1/outbox.
pub(super) fn routes(state: &AppState) -> Vec<BoxedFilter<(Response,)>> {
    let limit = state.max_body_bytes;
    let outbox_list = warp::path!("api" / "v1" / "outbox")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(outbox_list(s, h, q).await) })
        .boxed();
    let outbox_retry = warp::path!("api" / "v1" / "outbox" / i64 / "retry")
        .and(warp::post())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, s: AppState| async move { reply(outbox_retry(s, h, id).await) })
        .boxed();
    let outbox_retry_many = warp::path!("api" / "v1" / "outbox" / "retry")
        .and(warp::post())
        .and(warp::body::content_length_limit(limit))
        .and(auth_header())
        .and(json_or_empty::<RetryRequest>())
        .and(with_state(state.clone()))
        .and_then(|h, body: RetryRequest, s: AppState| async move {
            reply(outbox_retry_many(s, h, body).await)
        })
        .boxed();
    vec![outbox_list, outbox_retry, outbox_retry_many]
}

/// One outbox row without its bodies.
fn outbox_item(m: &emails::Email) -> serde_json::Value {
    serde_json::json!({
        "id": m.id, "kind": m.kind, "plan_id": m.plan_id, "team_id": m.team_id,
        "region": m.region_code, "recipient": m.recipient, "language": m.language,
        "subject": m.subject, "message_id": m.message_id, "status": m.status,
        "attempts": m.attempts, "max_attempts": m.max_attempts,
        "next_attempt_at": m.next_attempt_at, "last_error": m.last_error,
        "smtp_response": m.smtp_response, "created_at": m.created_at, "sent_at": m.sent_at,
    })
}

impl From<emails::EmailError> for ApiError {
    fn from(e: emails::EmailError) -> Self {
        use emails::EmailError as E;
        match e {
            E::BadStatus { .. } | E::NoFilter => ApiError::BadRequest(e.to_string()),
            E::NotFound(_) => ApiError::NotFound(e.to_string()),
            E::NotRetriable { .. } => ApiError::Conflict(e.to_string()),
            E::Store(e) => e.into(),
        }
    }
}

/// GET /api/v1/outbox?status=&plan=&limit=
async fn outbox_list(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let scope = scope_of(&p)?;
    let plan: Option<i64> =
        match q.get("plan").map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(v.parse().map_err(|_| {
                ApiError::BadRequest(format!("parameter plan: nilai tidak sah {v:?}"))
            })?),
        };
    let limit: u64 = param(&q, "limit", 200)?;
    if limit == 0 || limit > MAX_LIMIT as u64 {
        return Err(ApiError::BadRequest(format!(
            "parameter limit: 1..{MAX_LIMIT}"
        )));
    }
    let listing = emails::Listing {
        scope: scope.as_ref(),
        status: q.get("status").map(|v| v.trim()).filter(|v| !v.is_empty()),
        plan,
        limit,
    };
    let rows = emails::list(&s.db, &listing).await?;
    let items: Vec<_> = rows.iter().map(outbox_item).collect();
    Ok(json(&serde_json::json!({ "items": items })))
}

/// POST /api/v1/outbox/{id}/retry — put a failed or dead email back in the queue.
async fn outbox_retry(s: AppState, h: Option<String>, id: i64) -> Result<Response, ApiError> {
    let p = require(&s, h, PLANNERS).await?;
    let scope = scope_of(&p)?;
    let row = emails::retry(&s.db, scope.as_ref(), id, &p.actor(), chrono::Utc::now()).await?;
    s.wake.notify_one();
    Ok(json(&outbox_item(&row)))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryRequest {
    /// `failed`, `dead`, or both when absent.
    status: Option<String>,
    plan: Option<i64>,
    /// A kabupaten/kota or finer, inside the caller's scope; absent = the whole scope.
    region: Option<String>,
}

/// POST /api/v1/outbox/retry — after an outage longer than the retry budget: put every failed
/// and/or dead email of a plan or region back in the queue (audited, one transaction).
async fn outbox_retry_many(
    s: AppState,
    h: Option<String>,
    body: RetryRequest,
) -> Result<Response, ApiError> {
    let p = require(&s, h, PLANNERS).await?;
    let scope = scope_of(&p)?;
    let region = match &body.region {
        None => None,
        Some(r) => {
            let r = region_param(r, "region")?;
            in_scope(&p, &r)?;
            Some(r)
        }
    };
    let what = emails::RetryMany {
        status: body.status,
        plan: body.plan,
        region,
        require_filter: false,
    };
    let ids =
        emails::retry_many(&s.db, scope.as_ref(), what, &p.actor(), chrono::Utc::now()).await?;
    if !ids.is_empty() {
        s.wake.notify_one();
    }
    Ok(json(
        &serde_json::json!({ "requeued": ids.len(), "ids": ids }),
    ))
}
