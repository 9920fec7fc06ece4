//! Regions, sites and teams: what the database knows of a region, read as it is.

use chrono::Datelike;
use warp::Filter;
use warp::reply::Response;

use super::auth::{self, STAFF, require, scope_of};
use super::params::{
    Query, Route, auth_header, in_scope, json, kinds_param, param, query, region_param, reply,
    route, with_state,
};
use super::schemas::{BadRequest, Denied, NotFound};
use super::{ApiError, AppState};
use crate::domain::RegionCode;
use crate::services::catalog;
use crate::services::catalog::{Page, RegionDetail, SiteView, TeamView};

/// GET /api/v1/regions/{code}, /api/v1/sites, /api/v1/teams.
pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let region = warp::path!("api" / "v1" / "regions" / String)
        .and(warp::get())
        .and(auth_header())
        .and(query())
        .and(with_state(state.clone()))
        .and_then(|code: String, h, q: Query, s: AppState| async move {
            reply(region(s, h, code, q).await)
        })
        .boxed();
    let sites = warp::path!("api" / "v1" / "sites")
        .and(warp::get())
        .and(auth_header())
        .and(query())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(sites(s, h, q).await) })
        .boxed();
    let teams = warp::path!("api" / "v1" / "teams")
        .and(warp::get())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|h, s: AppState| async move { reply(teams(s, h).await) })
        .boxed();
    vec![
        route("GET", "/api/v1/regions/{code}", region),
        route("GET", "/api/v1/sites", sites),
        route("GET", "/api/v1/teams", teams),
    ]
}

/// GET /api/v1/regions/{code}?year=&boundary=
#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "catalog", operation_id = "getRegion",
    security(("bearerAuth" = [])),
    params(
        ("code" = RegionCode, Path),
        ("year" = Option<i32>, Query, minimum = 2000, maximum = 2100,
            description = "The year whose targets apply (default: this year)."),
        ("boundary" = Option<bool>, Query, description = "With the boundary as GeoJSON."),
    ),
    responses(
        (status = 200, description = "The region, its children and its coverage.",
            body = RegionDetail),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        Denied,
    ))]
pub(super) async fn region(
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
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return Err(ApiError::BadRequest(format!(
            "parameter year: {MIN_YEAR}..{MAX_YEAR}"
        )));
    }
    let boundary = param(&q, "boundary", false)?;
    let detail = catalog::region(&s.db, &code, year, boundary)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("Wilayah {code} tidak ditemukan / region not found"))
        })?;
    Ok(json(&detail))
}

pub const MAX_PER_PAGE: u64 = 500;
const MIN_YEAR: i32 = 2000;
const MAX_YEAR: i32 = 2100;

/// GET /api/v1/sites?region=&kind=&page=&per_page=
#[utoipa::path(get, path = "/api/v1/sites", tag = "catalog", operation_id = "listSites",
    security(("bearerAuth" = [])),
    params(
        ("region" = Option<RegionCode>, Query,
            description = "Only sites within (default: the caller's region)."),
        ("kind" = Option<super::schemas::Kinds>, Query),
        ("page" = Option<u64>, Query, minimum = 1, maximum = 1_000_000),
        ("per_page" = Option<u64>, Query, minimum = 1, maximum = 500),
    ),
    responses(
        (status = 200, description = "One page of sites.", body = Page<SiteView>),
        (status = 400, response = BadRequest),
        Denied,
    ))]
pub(super) async fn sites(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
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

/// The teams the caller reaches.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct TeamList {
    items: Vec<TeamView>,
}

/// GET /api/v1/teams
#[utoipa::path(get, path = "/api/v1/teams", tag = "catalog", operation_id = "listTeams",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The teams the caller reaches.", body = TeamList),
        Denied,
    ))]
pub(super) async fn teams(s: AppState, h: Option<String>) -> Result<Response, ApiError> {
    let p = require(&s, h, auth::ANY).await?;
    let items: Vec<_> = catalog::teams(&s.db)
        .await?
        .into_iter()
        .filter(|t| p.covers_team(t.id, &t.kabupaten_code))
        .collect();
    Ok(json(&TeamList { items }))
}
