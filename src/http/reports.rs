//! The weekly report (plan against actual per team and kecamatan, coverage before and after)
//! and the audit trail.

use warp::Filter;
use warp::reply::Response;

use super::auth::{REVIEWERS, STAFF, require, scope_of};
use super::params::{Query, Route, auth_header, json, query, reply, route, with_state};
use super::params::{int_q, region_q, week_q};
use super::schemas::{BadRequest, Denied, NotFound};
use super::{ApiError, AppState};
use crate::domain::{RegionCode, Week};
use crate::services::reports::{self, WeeklyReport};

/// GET /api/v1/reports/weekly?region=&week= — plan against actual per team and per kecamatan,
/// with coverage before (official) and after (derived from approved logs).
#[utoipa::path(get, path = "/api/v1/reports/weekly", tag = "reports",
    operation_id = "weeklyReport",
    security(("bearerAuth" = [])),
    params(
        ("region" = RegionCode, Query),
        ("week" = Option<Week>, Query, description = "The week reported (default: next week)."),
    ),
    responses(
        (status = 200, description = "Plan against actual, per team and per kecamatan.",
            body = WeeklyReport),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        Denied,
    ))]
pub(super) async fn weekly(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let region = region_q(&q, "region")?.ok_or_else(|| {
        ApiError::BadRequest("parameter region wajib diisi / region is required".into())
    })?;
    if !p.covers_region(region.as_str()) {
        return Err(ApiError::Forbidden(
            "Wilayah di luar cakupan Anda / region outside your scope".into(),
        ));
    }
    let week = week_q(&q)?.unwrap_or_else(|| region.next_week(s.clock.now()).to_string());
    Ok(json(&reports::weekly(&s.db, &region, &week).await?))
}

/// One entry of the audit trail.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct AuditItem {
    id: i64,
    at: chrono::DateTime<chrono::Utc>,
    /// Who: `user:<id>`, `link:team:<id>`, `system:…`.
    actor: String,
    action: String,
    object_type: String,
    object_id: String,
    region: Option<String>,
    /// What the action carried (its own shape per action).
    detail: serde_json::Value,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct AuditList {
    items: Vec<AuditItem>,
}

/// GET /api/v1/audit?limit=
#[utoipa::path(get, path = "/api/v1/audit", tag = "reports", operation_id = "listAudit",
    security(("bearerAuth" = [])),
    params(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000,
            description = "How many, newest first (default 200)."),
    ),
    responses(
        (status = 200, description = "The audit trail within the caller's scope, newest first.",
            body = AuditList),
        (status = 400, response = BadRequest),
        Denied,
    ))]
pub(super) async fn audit(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
    let p = require(&s, h, REVIEWERS).await?;
    let scope = scope_of(&p)?;
    let limit = int_q(&q, "limit")?.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest("parameter limit: 1..1000".into()));
    }
    let items = crate::services::accounts::audit_trail(&s.db, scope.as_ref(), limit as u64)
        .await?
        .into_iter()
        .map(|a| AuditItem {
            id: a.id,
            at: a.at,
            actor: a.actor,
            action: a.action,
            object_type: a.object_type,
            object_id: a.object_id,
            region: a.region_code,
            detail: a.detail,
        })
        .collect();
    Ok(json(&AuditList { items }))
}

/// GET /api/v1/reports/weekly and /api/v1/audit.
pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let weekly = warp::path!("api" / "v1" / "reports" / "weekly")
        .and(warp::get())
        .and(auth_header())
        .and(query())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(weekly(s, h, q).await) })
        .boxed();
    let audit = warp::path!("api" / "v1" / "audit")
        .and(warp::get())
        .and(auth_header())
        .and(query())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(audit(s, h, q).await) })
        .boxed();
    vec![
        route("GET", "/api/v1/reports/weekly", weekly),
        route("GET", "/api/v1/audit", audit),
    ]
}
