//! The email outbox: list, and put failed or dead emails back in the queue.

use warp::Filter;
use warp::reply::Response;

use super::auth::{PLANNERS, STAFF, require, scope_of};
use super::params::{
    MAX_LIMIT, Query, Route, auth_header, in_scope, json, json_or_empty, param, query,
    region_param, reply, route, with_state,
};
use super::schemas::PayloadTooLarge;
use super::schemas::{BadRequest, Conflict, Denied, NotFound};
use super::{ApiError, AppState};
use crate::domain::RegionCode;
use crate::services::emails;

/// /api/v1/outbox.
pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let limit = state.max_body_bytes;
    let outbox_list = warp::path!("api" / "v1" / "outbox")
        .and(warp::get())
        .and(auth_header())
        .and(query())
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
    vec![
        route("GET", "/api/v1/outbox", outbox_list),
        route("POST", "/api/v1/outbox/{id}/retry", outbox_retry),
        route("POST", "/api/v1/outbox/retry", outbox_retry_many),
    ]
}

/// One outbox row without its bodies.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = OutboxEmail)]
pub(super) struct OutboxItem {
    id: i64,
    /// `schedule`, `change` or `reminder`.
    kind: String,
    plan_id: Option<i64>,
    team_id: Option<i64>,
    region: String,
    recipient: String,
    language: String,
    subject: String,
    message_id: String,
    /// `pending`, `sending`, `sent`, `failed` or `dead`.
    status: String,
    attempts: i32,
    max_attempts: i32,
    next_attempt_at: chrono::DateTime<chrono::Utc>,
    last_error: Option<String>,
    smtp_response: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&emails::Email> for OutboxItem {
    fn from(m: &emails::Email) -> Self {
        OutboxItem {
            id: m.id,
            kind: m.kind.clone(),
            plan_id: m.plan_id,
            team_id: m.team_id,
            region: m.region_code.clone(),
            recipient: m.recipient.clone(),
            language: m.language.clone(),
            subject: m.subject.clone(),
            message_id: m.message_id.clone(),
            status: m.status.clone(),
            attempts: m.attempts,
            max_attempts: m.max_attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error.clone(),
            smtp_response: m.smtp_response.clone(),
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct OutboxList {
    items: Vec<OutboxItem>,
}

/// What a retry of many put back in the queue.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct Requeued {
    requeued: usize,
    ids: Vec<i64>,
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
#[utoipa::path(get, path = "/api/v1/outbox", tag = "emails", operation_id = "listOutbox",
    security(("bearerAuth" = [])),
    params(
        ("status" = Option<String>, Query, pattern = "^(pending|sending|sent|failed|dead)$",
            description = "Only emails in this state."),
        ("plan" = Option<i64>, Query, minimum = 1, description = "Only this plan's emails."),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000,
            description = "How many, newest first (default 200)."),
    ),
    responses(
        (status = 200, description = "The region's emails, newest first.", body = OutboxList),
        (status = 400, response = BadRequest),
        Denied,
    ))]
pub(super) async fn outbox_list(
    s: AppState,
    h: Option<String>,
    q: Query,
) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let scope = scope_of(&p)?;
    let plan = super::params::id_q(&q, "plan")?;
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
    let items = rows.iter().map(OutboxItem::from).collect();
    Ok(json(&OutboxList { items }))
}

/// POST /api/v1/outbox/{id}/retry — put a failed or dead email back in the queue.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "emails",
    operation_id = "retryOutbox",
    security(("bearerAuth" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Queued again.", body = OutboxItem),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        Denied,
    ))]
pub(super) async fn outbox_retry(
    s: AppState,
    h: Option<String>,
    id: i64,
) -> Result<Response, ApiError> {
    let p = require(&s, h, PLANNERS).await?;
    let scope = scope_of(&p)?;
    let row = emails::retry(&s.db, scope.as_ref(), id, &p.actor(), chrono::Utc::now()).await?;
    s.wake.notify_one();
    Ok(json(&OutboxItem::from(&row)))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RetryRequest {
    /// `failed`, `dead`, or both when absent or empty.
    #[schema(pattern = "^(failed|dead)?$")]
    status: Option<String>,
    /// Only this plan's emails.
    plan: Option<i64>,
    /// A kabupaten/kota or finer, inside the caller's scope; absent = the whole scope.
    #[schema(value_type = Option<RegionCode>)]
    region: Option<String>,
}

/// POST /api/v1/outbox/retry — after an outage longer than the retry budget: put every failed
/// and/or dead email of a plan or region back in the queue (audited, one transaction).
#[utoipa::path(post, path = "/api/v1/outbox/retry", tag = "emails",
    operation_id = "retryOutboxMany",
    security(("bearerAuth" = [])),
    request_body(content = Option<RetryRequest>, description = "Filters; the body may be empty."),
    responses(
        (status = 200, description = "What was queued again.", body = Requeued),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        Denied,
    ))]
pub(super) async fn outbox_retry_many(
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
    Ok(json(&Requeued {
        requeued: ids.len(),
        ids,
    }))
}
