//! The ranked sites of a region for a week, and one site's priority with its reasons.

use warp::Filter;
use warp::reply::Response;

use super::auth::{STAFF, require};
use super::params::{
    MAX_LIMIT, Query, Route, auth_header, in_scope, json, kinds_param, param, query, region_param,
    reply, route, week_param, with_state,
};
use super::schemas::{BadRequest, Denied, NotFound, Unavailable};
use super::{ApiError, AppState};
use crate::domain::{RegionCode, Week};
use crate::services::catalog;
use crate::services::ranking::RankError;
use crate::services::ranking::{RankedSite, Ranking};

/// GET /api/v1/priorities and /api/v1/sites/{id}/priority.
pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let priorities = warp::path!("api" / "v1" / "priorities")
        .and(warp::get())
        .and(auth_header())
        .and(query())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(priorities(s, h, q).await) })
        .boxed();
    let site_priority = warp::path!("api" / "v1" / "sites" / i64 / "priority")
        .and(warp::get())
        .and(auth_header())
        .and(query())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, q: Query, s: AppState| async move {
            reply(site_priority(s, h, id, q).await)
        })
        .boxed();
    vec![
        route("GET", "/api/v1/priorities", priorities),
        route("GET", "/api/v1/sites/{id}/priority", site_priority),
    ]
}

impl From<RankError> for ApiError {
    fn from(e: RankError) -> Self {
        match e {
            RankError::BadWeek(m) => ApiError::BadRequest(format!("parameter week: {m}")),
            RankError::Store(e) => e.into(),
            RankError::Busy(b) => ApiError::Busy(b.retry_after_s),
            RankError::Shared(_, true) => ApiError::Unavailable,
            RankError::Shared(m, false) => ApiError::Internal(m),
        }
    }
}

/// GET /api/v1/priorities?region=&week=&kind=&limit=
#[utoipa::path(get, path = "/api/v1/priorities", tag = "priorities",
    operation_id = "listPriorities",
    security(("bearerAuth" = [])),
    params(
        ("region" = RegionCode, Query),
        ("week" = Option<Week>, Query, description = "The week ranked (default: next week)."),
        ("kind" = Option<super::schemas::Kinds>, Query),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 1000,
            description = "How many sites (default 20)."),
    ),
    responses(
        (status = 200, description = "The region's sites, best first, with their reasons.",
            body = Ranking),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
        Denied,
    ))]
pub(super) async fn priorities(
    s: AppState,
    h: Option<String>,
    q: Query,
) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let region = match q.get("region").map(|r| r.trim()).filter(|r| !r.is_empty()) {
        Some(r) => region_param(r, "region")?,
        None => {
            return Err(ApiError::BadRequest(
                "parameter region wajib diisi / region is required (e.g. 35.09)".into(),
            ));
        }
    };
    in_scope(&p, &region)?;
    let kinds = kinds_param(&q)?;
    let limit: usize = param(&q, "limit", 20)?;
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::BadRequest(format!(
            "parameter limit: 1..{MAX_LIMIT}"
        )));
    }
    let ranking = s
        .ranker
        .rank_region(
            &s.db,
            &region,
            &week_param(&q, Some(&region), s.clock.now()),
            &kinds,
            limit,
        )
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "Wilayah {region} tidak ditemukan / region not found"
            ))
        })?;
    Ok(json(&ranking))
}

/// GET /api/v1/sites/{id}/priority?week=
#[utoipa::path(get, path = "/api/v1/sites/{id}/priority", tag = "priorities",
    operation_id = "getSitePriority",
    security(("bearerAuth" = [])),
    params(
        ("id" = i64, Path, minimum = 1),
        ("week" = Option<Week>, Query, description = "The week ranked (default: next week)."),
    ),
    responses(
        (status = 200, description = "The site's rank, score and every factor.",
            body = RankedSite),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
        Denied,
    ))]
pub(super) async fn site_priority(
    s: AppState,
    h: Option<String>,
    id: i64,
    q: Query,
) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let reachable = catalog::site_region(&s.db, id)
        .await?
        .is_some_and(|r| p.covers_region(r.as_str()));
    let item = if reachable {
        s.ranker
            .site_priority(&s.db, id, &week_param(&q, None, s.clock.now()))
            .await?
    } else {
        None
    };
    let item = item.ok_or_else(|| {
        ApiError::NotFound(format!(
            "Situs {id} tidak ditemukan atau tidak aktif / site not found or inactive"
        ))
    })?;
    Ok(json(&item))
}
