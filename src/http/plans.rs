//! A week's plans: make one, list the versions, read one (JSON or GeoJSON), pin, re-plan,
//! publish, approve.

use warp::reply::Response;
use warp::{Filter, Reply};

use super::auth::{PLANNERS, STAFF, require};
use super::params::{
    Query, Route, auth_header, in_scope, json, json_body, json_or_empty, query, region_param,
    reply, route, with_state,
};
use super::schemas::{BadRequest, Conflict, Denied, Invalid, NotFound};
use super::schemas::{PayloadTooLarge, Unavailable};
use super::{ApiError, AppState};
use crate::auth::Principal;
use crate::domain::RegionCode;
use crate::services::planning::{self, PinInput, PlanError, PlanOptions, PlanView};
use crate::services::ranking;

/// /api/v1/plans and what is done to one plan.
pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let limit = state.max_body_bytes;
    let create_plan = warp::path!("api" / "v1" / "plans")
        .and(warp::post())
        .and(warp::body::content_length_limit(limit))
        .and(auth_header())
        .and(json_body::<PlanRequest>())
        .and(with_state(state.clone()))
        .and_then(|h, body: PlanRequest, s: AppState| async move {
            reply(create_plan(s, h, body).await)
        })
        .boxed();
    let list_plans = warp::path!("api" / "v1" / "plans")
        .and(warp::get())
        .and(auth_header())
        .and(query())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(list_plans(s, h, q).await) })
        .boxed();
    let get_plan = warp::path!("api" / "v1" / "plans" / String)
        .and(warp::get())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|id: String, h, s: AppState| async move { reply(get_plan(s, h, id).await) })
        .boxed();
    let put_pins = warp::path!("api" / "v1" / "plans" / i64 / "pins")
        .and(warp::put())
        .and(warp::body::content_length_limit(limit))
        .and(auth_header())
        .and(json_body::<PinsRequest>())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, body: PinsRequest, s: AppState| async move {
            reply(put_pins(s, h, id, body).await)
        })
        .boxed();
    let get_pins = warp::path!("api" / "v1" / "plans" / i64 / "pins")
        .and(warp::get())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, s: AppState| async move { reply(get_pins(s, h, id).await) })
        .boxed();
    let replan = warp::path!("api" / "v1" / "plans" / i64 / "replan")
        .and(warp::post())
        .and(warp::body::content_length_limit(limit))
        .and(auth_header())
        .and(json_or_empty::<ReplanRequest>())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, body: ReplanRequest, s: AppState| async move {
            reply(replan(s, h, id, body).await)
        })
        .boxed();
    let publish = warp::path!("api" / "v1" / "plans" / i64 / "publish")
        .and(warp::post())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, s: AppState| async move { reply(publish(s, h, id).await) })
        .boxed();
    let approve = warp::path!("api" / "v1" / "plans" / i64 / "approve")
        .and(warp::post())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, s: AppState| async move { reply(approve(s, h, id).await) })
        .boxed();
    vec![
        route("POST", "/api/v1/plans", create_plan),
        route("GET", "/api/v1/plans", list_plans),
        route("GET", "/api/v1/plans/{id}", get_plan),
        route("PUT", "/api/v1/plans/{id}/pins", put_pins),
        route("GET", "/api/v1/plans/{id}/pins", get_pins),
        route("POST", "/api/v1/plans/{id}/replan", replan),
        route("POST", "/api/v1/plans/{id}/publish", publish),
        route("POST", "/api/v1/plans/{id}/approve", approve),
    ]
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PlanRequest {
    #[schema(value_type = RegionCode)]
    region: String,
    /// ISO week (default: the region's next week).
    #[schema(value_type = Option<crate::domain::Week>)]
    week: Option<String>,
    /// Seconds of search (default from config: `planner.time_limit_s`).
    #[schema(exclusive_minimum = 0, maximum = 120, example = 1)]
    time_limit_s: Option<f64>,
    /// Search seed; the same seed and limit give the same plan.
    #[schema(minimum = 0)]
    seed: Option<u64>,
    /// Sites the coordinator wants considered even outside the top candidates.
    #[serde(default)]
    #[schema(max_items = 100)]
    sites: Vec<i64>,
    shares: Option<Shares>,
}

/// The week's share of team time per indicator, in percent (at most 100 in all), e.g.
/// `{"kia": 40, "ikd": 55}`; met within ±5 points when enough candidates exist. Default: the
/// region's configured shares (`planner.shares`), or none.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kia": 40}))]
pub(super) struct Shares {
    #[schema(minimum = 0, maximum = 100)]
    ktp_el: Option<f64>,
    #[schema(minimum = 0, maximum = 100)]
    kia: Option<f64>,
    #[schema(minimum = 0, maximum = 100)]
    akta_lahir: Option<f64>,
    #[schema(minimum = 0, maximum = 100)]
    ikd: Option<f64>,
}

impl Shares {
    fn into_map(self) -> std::collections::BTreeMap<String, f64> {
        [
            ("ktp_el", self.ktp_el),
            ("kia", self.kia),
            ("akta_lahir", self.akta_lahir),
            ("ikd", self.ikd),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect()
    }
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PinsRequest {
    /// Every pin of the week (replaces the ones before).
    #[schema(max_items = 50)]
    pins: Vec<PinInput>,
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReplanRequest {
    /// Seconds of search (default from config: `planner.time_limit_s`).
    #[schema(exclusive_minimum = 0, maximum = 120, example = 1)]
    time_limit_s: Option<f64>,
    /// Search seed; the same seed and limit give the same plan.
    #[schema(minimum = 0)]
    seed: Option<u64>,
    /// Days before this date count as worked (default: today in the region's time zone).
    as_of: Option<chrono::NaiveDate>,
    /// Shares of team time per indicator (default: the re-planned plan's).
    shares: Option<Shares>,
}

/// One version of a week's plan, in a listing.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct PlanSummary {
    id: i64,
    week: String,
    version: i32,
    /// `draft`, `published` or `superseded`.
    status: String,
    created_at: chrono::DateTime<chrono::Utc>,
    published_at: Option<chrono::DateTime<chrono::Utc>>,
    approved_at: Option<chrono::DateTime<chrono::Utc>>,
    base_plan_id: Option<i64>,
    priority_served: f64,
    upper_bound: f64,
    visits: i32,
    travel_s: i64,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct PlanList {
    items: Vec<PlanSummary>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct PinsReply {
    plan_id: i64,
    pins: Vec<PinInput>,
}

/// The plan as published, and what the publication did.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct PublishReply {
    #[serde(flatten)]
    plan: PlanView,
    /// False when this version was already published (nothing was queued again).
    newly_published: bool,
    emails_queued: u64,
    teams_notified: usize,
    /// Places visited that get a notice (some are due later: `notices.lead_days`).
    sites_notified: usize,
}

fn time_limit_param(t: Option<f64>) -> Result<(), ApiError> {
    match t {
        Some(t) if !(t > 0.0 && t <= MAX_PLAN_SECONDS) => Err(ApiError::BadRequest(format!(
            "time_limit_s: 0..{MAX_PLAN_SECONDS}"
        ))),
        _ => Ok(()),
    }
}

pub const MAX_PLAN_SECONDS: f64 = 120.0;

/// Sites a coordinator may add to a plan's candidates in one request.
const MAX_EXTRA_SITES: usize = 100;

/// Pins of one region-week.
const MAX_PINS: usize = 50;

impl From<PlanError> for ApiError {
    fn from(e: PlanError) -> Self {
        match e {
            PlanError::BadRequest(m) => ApiError::BadRequest(m),
            PlanError::NotFound(m) => ApiError::NotFound(m),
            PlanError::Conflict(m) => ApiError::Conflict(m),
            PlanError::Store(e) => e.into(),
            PlanError::Internal(m) => ApiError::Internal(m),
            PlanError::Busy(b) => ApiError::Busy(b.retry_after_s),
        }
    }
}

/// POST /api/v1/plans — plan a week and store it as a draft (201 with the plan).
#[utoipa::path(post, path = "/api/v1/plans", tag = "plans", operation_id = "createPlan",
    security(("bearerAuth" = [])),
    request_body = PlanRequest,
    responses(
        (status = 201, description = "The plan, stored as a draft.", body = PlanView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
        Denied,
    ))]
pub(super) async fn create_plan(
    s: AppState,
    h: Option<String>,
    body: PlanRequest,
) -> Result<Response, ApiError> {
    let p = require(&s, h, PLANNERS).await?;
    let region = region_param(&body.region, "region")?;
    in_scope(&p, &region)?;
    time_limit_param(body.time_limit_s)?;
    if body.sites.len() > MAX_EXTRA_SITES {
        return Err(ApiError::BadRequest(format!(
            "sites: paling banyak {MAX_EXTRA_SITES} / at most {MAX_EXTRA_SITES}"
        )));
    }
    let week = body
        .week
        .filter(|w| !w.trim().is_empty())
        .unwrap_or_else(|| region.next_week(s.clock.now()).to_string());
    let options = PlanOptions {
        time_limit_s: body.time_limit_s,
        seed: body.seed,
        sites: body.sites,
        shares: body.shares.map(Shares::into_map),
    };
    let id = planning::plan_week(&s.db, &s.ranker, &s.planner, &region, &week, &options).await?;
    let view = planning::view(&s.db, id)
        .await?
        .ok_or_else(|| ApiError::Internal("stored plan vanished".into()))?;
    Ok(
        warp::reply::with_status(warp::reply::json(&view), warp::http::StatusCode::CREATED)
            .into_response(),
    )
}

/// GET /api/v1/plans?region=&week= — the versions of a region's weekly plans, newest first.
#[utoipa::path(get, path = "/api/v1/plans", tag = "plans", operation_id = "listPlans",
    security(("bearerAuth" = [])),
    params(
        ("region" = RegionCode, Query),
        ("week" = Option<crate::domain::Week>, Query, description = "Only this week."),
    ),
    responses(
        (status = 200, description = "The versions, newest first.", body = PlanList),
        (status = 400, response = BadRequest),
        Denied,
    ))]
pub(super) async fn list_plans(
    s: AppState,
    h: Option<String>,
    q: Query,
) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let region = region_param(
        q.get("region").map(String::as_str).unwrap_or_default(),
        "region",
    )?;
    in_scope(&p, &region)?;
    let week = q.get("week").filter(|w| !w.trim().is_empty());
    if let Some(w) = week {
        ranking::week_start(w).map_err(ApiError::BadRequest)?;
    }
    let items = planning::versions(&s.db, region.as_str(), week.map(String::as_str))
        .await?
        .into_iter()
        .map(|p| PlanSummary {
            id: p.id,
            week: p.week,
            version: p.version,
            status: p.status,
            created_at: p.created_at,
            published_at: p.published_at,
            approved_at: p.approved_at,
            base_plan_id: p.base_plan_id,
            priority_served: p.prize,
            upper_bound: p.upper_bound,
            visits: p.visits,
            travel_s: p.travel_s,
        })
        .collect();
    Ok(json(&PlanList { items }))
}

fn plan_not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("Rencana {id} tidak ditemukan / plan not found"))
}

/// PUT /api/v1/plans/{id}/pins — replace the pins of the plan's region-week.
#[utoipa::path(put, path = "/api/v1/plans/{id}/pins", tag = "plans", operation_id = "putPins",
    security(("bearerAuth" = [])),
    params(("id" = i64, Path, minimum = 1)),
    request_body = PinsRequest,
    responses(
        (status = 200, description = "The week's pins now.", body = PinsReply),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Invalid),
        Denied,
    ))]
pub(super) async fn put_pins(
    s: AppState,
    h: Option<String>,
    id: i64,
    body: PinsRequest,
) -> Result<Response, ApiError> {
    let p = require(&s, h, PLANNERS).await?;
    plan_in_scope(&s, &p, id).await?;
    if body.pins.len() > MAX_PINS {
        return Err(ApiError::BadRequest(format!(
            "pins: paling banyak {MAX_PINS} / at most {MAX_PINS}"
        )));
    }
    let pins = planning::set_pins(&s.db, &s.planner, id, &body.pins).await?;
    Ok(json(&PinsReply { plan_id: id, pins }))
}

/// GET /api/v1/plans/{id}/pins
#[utoipa::path(get, path = "/api/v1/plans/{id}/pins", tag = "plans", operation_id = "getPins",
    security(("bearerAuth" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "The pins of the plan's region-week.", body = PinsReply),
        (status = 404, response = NotFound),
        Denied,
    ))]
pub(super) async fn get_pins(
    s: AppState,
    h: Option<String>,
    id: i64,
) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    plan_in_scope(&s, &p, id).await?;
    let pins = planning::pins(&s.db, id)
        .await?
        .ok_or_else(|| plan_not_found(id))?;
    Ok(json(&PinsReply { plan_id: id, pins }))
}

/// POST /api/v1/plans/{id}/replan — a new draft version that keeps completed and pinned visits
/// and moves as few others as it can (201 with the plan and what changed).
#[utoipa::path(post, path = "/api/v1/plans/{id}/replan", tag = "plans",
    operation_id = "replanPlan",
    security(("bearerAuth" = [])),
    params(("id" = i64, Path, minimum = 1)),
    request_body(content = Option<ReplanRequest>, description = "Options; the body may be empty."),
    responses(
        (status = 201, description = "The new draft version, with `changes`.", body = PlanView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
        Denied,
    ))]
pub(super) async fn replan(
    s: AppState,
    h: Option<String>,
    id: i64,
    body: ReplanRequest,
) -> Result<Response, ApiError> {
    let p = require(&s, h, PLANNERS).await?;
    let plan = plan_in_scope(&s, &p, id).await?;
    time_limit_param(body.time_limit_s)?;
    let as_of = match body.as_of {
        Some(d) => d,
        None => {
            let region = RegionCode::parse(&plan.region_code)
                .map_err(|e| ApiError::Internal(format!("stored plan region: {e}")))?;
            region.local_date(s.clock.now())
        }
    };
    let options = PlanOptions {
        time_limit_s: body.time_limit_s,
        seed: body.seed,
        sites: Vec::new(),
        shares: body.shares.map(Shares::into_map),
    };
    let (new_id, changes) =
        planning::replan(&s.db, &s.ranker, &s.planner, id, as_of, &options).await?;
    let mut view = planning::view(&s.db, new_id)
        .await?
        .ok_or_else(|| ApiError::Internal("stored plan vanished".into()))?;
    view.changes = Some(changes);
    Ok(
        warp::reply::with_status(warp::reply::json(&view), warp::http::StatusCode::CREATED)
            .into_response(),
    )
}

/// POST /api/v1/plans/{id}/publish — publish and queue the teams' emails in one transaction
/// (202: the emails go out from the outbox). Idempotent: publishing the published version again
/// queues nothing (200).
#[utoipa::path(post, path = "/api/v1/plans/{id}/publish", tag = "plans",
    operation_id = "publishPlan",
    security(("bearerAuth" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 202, description = "Published; the emails go out from the outbox.",
            body = PublishReply),
        (status = 200, description = "Already the published version; nothing queued again.",
            body = PublishReply),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        Denied,
    ))]
pub(super) async fn publish(s: AppState, h: Option<String>, id: i64) -> Result<Response, ApiError> {
    let p = require(&s, h, PLANNERS).await?;
    plan_in_scope(&s, &p, id).await?;
    let outcome = crate::services::publishing::publish(&s.db, &s.mail, id, &p.actor()).await?;
    if outcome.emails_queued > 0 {
        s.wake.notify_one();
    }
    let view = planning::view(&s.db, id)
        .await?
        .ok_or_else(|| plan_not_found(id))?;
    let body = PublishReply {
        plan: view,
        newly_published: outcome.newly_published,
        emails_queued: outcome.emails_queued,
        teams_notified: outcome.teams_notified,
        sites_notified: outcome.sites_notified,
    };
    let status = if outcome.newly_published {
        warp::http::StatusCode::ACCEPTED
    } else {
        warp::http::StatusCode::OK
    };
    Ok(warp::reply::with_status(warp::reply::json(&body), status).into_response())
}

/// POST /api/v1/plans/{id}/approve — the weekly trigger may publish and send this version.
#[utoipa::path(post, path = "/api/v1/plans/{id}/approve", tag = "plans",
    operation_id = "approvePlan",
    security(("bearerAuth" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Approved.", body = crate::services::publishing::Approved),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        Denied,
    ))]
pub(super) async fn approve(s: AppState, h: Option<String>, id: i64) -> Result<Response, ApiError> {
    let p = require(&s, h, PLANNERS).await?;
    plan_in_scope(&s, &p, id).await?;
    use crate::services::publishing::{self, ApproveError};
    match publishing::approve(&s.db, id, &p.actor()).await {
        Ok(approved) => Ok(json(&approved)),
        Err(ApproveError::NotFound(_)) => Err(plan_not_found(id)),
        Err(e @ ApproveError::Superseded { .. }) => Err(ApiError::Conflict(e.to_string())),
        Err(ApproveError::Store(e)) => Err(e.into()),
    }
}

/// GET /api/v1/plans/{id} and GET /api/v1/plans/{id}.geojson
#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "plans", operation_id = "getPlan",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, pattern = r"^[1-9][0-9]{0,17}(\.geojson)?$", max_length = 26,
        example = "1", description = "The plan's id; with `.geojson`, the plan as GeoJSON.")),
    responses(
        (status = 200, description = "The plan (JSON), or a FeatureCollection for `.geojson`.",
            content(
                (PlanView = "application/json"),
                (super::schemas::GeoJson = "application/geo+json"),
            )),
        (status = 404, response = NotFound),
        Denied,
    ))]
pub(super) async fn get_plan(
    s: AppState,
    h: Option<String>,
    raw: String,
) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let (id, geo) = match raw.strip_suffix(".geojson") {
        Some(id) => (id, true),
        None => (raw.as_str(), false),
    };
    let not_found =
        || ApiError::NotFound(format!("Rencana {raw} tidak ditemukan / plan not found"));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let view = planning::view(&s.db, id)
        .await?
        .filter(|v| p.covers_region(&v.region))
        .ok_or_else(not_found)?;
    if geo {
        let body = planning::geojson(&view);
        return Ok(warp::reply::with_header(
            warp::reply::json(&body),
            "content-type",
            "application/geo+json",
        )
        .into_response());
    }
    Ok(json(&view))
}

/// A plan the caller reaches, else "not found" (ids reveal nothing).
async fn plan_in_scope(
    s: &AppState,
    p: &Principal,
    id: i64,
) -> Result<planning::PlanHeader, ApiError> {
    planning::plan_header(&s.db, id)
        .await?
        .filter(|plan| p.covers_region(&plan.region_code))
        .ok_or_else(|| plan_not_found(id))
}
