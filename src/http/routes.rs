use std::collections::HashMap;
use std::convert::Infallible;

use chrono::Datelike;
use serde::Serialize;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::AppState;
use super::error::{ApiError, recover};
use crate::domain::{RegionCode, SiteKind};
use crate::ranking::{self, RankError};
use crate::store::{self, queries};

type Query = HashMap<String, String>;

fn with_state(state: AppState) -> impl Filter<Extract = (AppState,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

fn json<T: Serialize>(value: &T) -> Response {
    warp::reply::json(value).into_response()
}

fn reply(result: Result<Response, ApiError>) -> Result<Response, Infallible> {
    Ok(result.unwrap_or_else(ApiError::into_response))
}

pub fn routes(state: AppState) -> warp::filters::BoxedFilter<(impl Reply + use<>,)> {
    let health = warp::path!("health")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and_then(|s: AppState| async move { reply(health(s).await) });
    let region = warp::path!("api" / "v1" / "regions" / String)
        .and(warp::get())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(
            |code: String, q: Query, s: AppState| async move { reply(region(s, code, q).await) },
        );
    let sites = warp::path!("api" / "v1" / "sites")
        .and(warp::get())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|q: Query, s: AppState| async move { reply(sites(s, q).await) });
    let priorities = warp::path!("api" / "v1" / "priorities")
        .and(warp::get())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|q: Query, s: AppState| async move { reply(priorities(s, q).await) });
    let site_priority = warp::path!("api" / "v1" / "sites" / i64 / "priority")
        .and(warp::get())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(
            |id: i64, q: Query, s: AppState| async move { reply(site_priority(s, id, q).await) },
        );
    let teams = warp::path!("api" / "v1" / "teams")
        .and(warp::get())
        .and(with_state(state))
        .and_then(|s: AppState| async move { reply(teams(s).await) });
    health
        .or(region)
        .unify()
        .or(sites)
        .unify()
        .or(teams)
        .unify()
        .or(priorities)
        .unify()
        .or(site_priority)
        .unify()
        .recover(recover)
        .unify()
        .with(warp::trace::request())
        .boxed()
}

/// GET /health
async fn health(s: AppState) -> Result<Response, ApiError> {
    store::ping(&s.db).await?;
    Ok(json(
        &serde_json::json!({ "status": "ok", "database": "ok" }),
    ))
}

fn param<T: std::str::FromStr>(q: &Query, name: &str, default: T) -> Result<T, ApiError> {
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("parameter {name}: nilai tidak sah {v:?}"))),
    }
}

fn kinds_param(q: &Query) -> Result<Vec<SiteKind>, ApiError> {
    match q.get("kind").map(|k| k.trim()).filter(|k| !k.is_empty()) {
        None => Ok(Vec::new()),
        Some(list) => list
            .split(',')
            .map(SiteKind::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiError::BadRequest(format!("parameter kind: {e}"))),
    }
}

fn week_param(q: &Query) -> String {
    q.get("week")
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| crate::priority::next_week(chrono::Utc::now().date_naive()))
}

impl From<RankError> for ApiError {
    fn from(e: RankError) -> Self {
        match e {
            RankError::BadWeek(m) => ApiError::BadRequest(format!("parameter week: {m}")),
            RankError::Store(e) => e.into(),
        }
    }
}

pub const MAX_LIMIT: usize = 1000;

/// GET /api/v1/priorities?region=&week=&kind=&limit=
async fn priorities(s: AppState, q: Query) -> Result<Response, ApiError> {
    let region = match q.get("region").map(|r| r.trim()).filter(|r| !r.is_empty()) {
        Some(r) => region_param(r, "region")?,
        None => {
            return Err(ApiError::BadRequest(
                "parameter region wajib diisi / region is required (e.g. 35.09)".into(),
            ));
        }
    };
    let kinds = kinds_param(&q)?;
    let limit: usize = param(&q, "limit", 20)?;
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::BadRequest(format!(
            "parameter limit: 1..{MAX_LIMIT}"
        )));
    }
    let ranking = ranking::rank_region(&s.db, &s.priority, &region, &week_param(&q), &kinds, limit)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "Wilayah {region} tidak ditemukan / region not found"
            ))
        })?;
    Ok(json(&ranking))
}

/// GET /api/v1/sites/{id}/priority?week=
async fn site_priority(s: AppState, id: i64, q: Query) -> Result<Response, ApiError> {
    let item = ranking::site_priority(&s.db, &s.priority, id, &week_param(&q))
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "Situs {id} tidak ditemukan atau tidak aktif / site not found or inactive"
            ))
        })?;
    Ok(json(&item))
}

fn region_param(raw: &str, name: &str) -> Result<RegionCode, ApiError> {
    RegionCode::parse(raw).map_err(|e| ApiError::BadRequest(format!("parameter {name}: {e}")))
}

/// GET /api/v1/regions/{code}?year=&boundary=
async fn region(s: AppState, code: String, q: Query) -> Result<Response, ApiError> {
    let code = region_param(&code, "code")?;
    let year = param(&q, "year", chrono::Utc::now().year())?;
    let boundary = param(&q, "boundary", false)?;
    let detail = queries::region_detail(&s.db, &code, year, boundary)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("Wilayah {code} tidak ditemukan / region not found"))
        })?;
    Ok(json(&detail))
}

pub const MAX_PER_PAGE: u64 = 500;

/// GET /api/v1/sites?region=&kind=&page=&per_page=
async fn sites(s: AppState, q: Query) -> Result<Response, ApiError> {
    let region = q
        .get("region")
        .filter(|r| !r.trim().is_empty())
        .map(|r| region_param(r, "region"))
        .transpose()?;
    let kinds: Vec<String> = kinds_param(&q)?
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    let page: u64 = param(&q, "page", 1)?;
    let per_page: u64 = param(&q, "per_page", 50)?;
    if page == 0 || per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(ApiError::BadRequest(format!(
            "page mulai dari 1 dan per_page 1..{MAX_PER_PAGE} / page starts at 1, per_page 1..{MAX_PER_PAGE}"
        )));
    }
    Ok(json(
        &queries::list_sites(&s.db, region.as_ref(), &kinds, page, per_page).await?,
    ))
}

/// GET /api/v1/teams
async fn teams(s: AppState) -> Result<Response, ApiError> {
    Ok(json(
        &serde_json::json!({ "items": queries::list_teams(&s.db).await? }),
    ))
}
