use std::collections::HashMap;
use std::convert::Infallible;

use chrono::Datelike;
use serde::Serialize;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::AppState;
use super::error::{ApiError, recover};
use crate::domain::{RegionCode, SiteKind};
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
    let kinds = match q.get("kind").map(|k| k.trim()).filter(|k| !k.is_empty()) {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|k| SiteKind::parse(k).map(|k| k.as_str().to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiError::BadRequest(format!("parameter kind: {e}")))?,
    };
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
