//! Regions, sites and teams: what the database knows of a region, read as it is.

use chrono::Datelike;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::auth::{self, STAFF, require, scope_of};
use super::params::{
    Query, auth_header, in_scope, json, kinds_param, param, region_param, reply, with_state,
};
use super::{ApiError, AppState};
use crate::domain::RegionCode;
use crate::services::catalog;

/// GET /api/v1/regions/{code}, /api/v1/sites, /api/v1/teams.
pub(super) fn routes(state: &AppState) -> Vec<BoxedFilter<(Response,)>> {
    let region = warp::path!("api" / "v1" / "regions" / String)
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|code: String, h, q: Query, s: AppState| async move {
            reply(region(s, h, code, q).await)
        })
        .boxed();
    let sites = warp::path!("api" / "v1" / "sites")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(sites(s, h, q).await) })
        .boxed();
    let teams = warp::path!("api" / "v1" / "teams")
        .and(warp::get())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|h, s: AppState| async move { reply(teams(s, h).await) })
        .boxed();
    vec![region, sites, teams]
}

/// GET /api/v1/regions/{code}?year=&boundary=
async fn region(
    s: AppState,
    h: Option<String>,
    code: String,
    q: Query,
) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let code = region_param(&code, "code")?;
    // Managers of a province and coordinators see their region, what lies in it, and the
    // regions above it (the province a kabupaten reports to).
    let up = p
        .region
        .as_deref()
        .and_then(|r| RegionCode::parse(r).ok())
        .is_some_and(|r| r.is_within(&code));
    if !up {
        in_scope(&p, &code)?;
    }
    let year = param(&q, "year", s.clock.now().year())?;
    let boundary = param(&q, "boundary", false)?;
    let detail = catalog::region(&s.db, &code, year, boundary)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("Wilayah {code} tidak ditemukan / region not found"))
        })?;
    Ok(json(&detail))
}

pub const MAX_PER_PAGE: u64 = 500;

/// GET /api/v1/sites?region=&kind=&page=&per_page=
async fn sites(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let region = q
        .get("region")
        .filter(|r| !r.trim().is_empty())
        .map(|r| region_param(r, "region"))
        .transpose()?;
    let region = match region {
        Some(r) => {
            in_scope(&p, &r)?;
            Some(r)
        }
        // Without a filter, a scoped caller gets their own region's sites.
        None => scope_of(&p)?,
    };
    let kinds: Vec<String> = kinds_param(&q)?
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    let page: u64 = param(&q, "page", 1)?;
    let per_page: u64 = param(&q, "per_page", 50)?;
    // The bounds the OpenAPI document states; (page − 1) × per_page must not overflow.
    if !(1..=MAX_PAGE).contains(&page) || per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(ApiError::BadRequest(format!(
            "page 1..{MAX_PAGE} dan per_page 1..{MAX_PER_PAGE} / page 1..{MAX_PAGE}, per_page 1..{MAX_PER_PAGE}"
        )));
    }
    Ok(json(
        &catalog::sites(&s.db, region.as_ref(), &kinds, page, per_page).await?,
    ))
}

pub const MAX_PAGE: u64 = 1_000_000;

/// GET /api/v1/teams
async fn teams(s: AppState, h: Option<String>) -> Result<Response, ApiError> {
    let p = require(&s, h, auth::ANY).await?;
    let items: Vec<_> = catalog::teams(&s.db)
        .await?
        .into_iter()
        .filter(|t| p.covers_team(t.id, &t.kabupaten_code))
        .collect();
    Ok(json(&serde_json::json!({ "items": items })))
}
