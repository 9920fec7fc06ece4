use std::collections::HashMap;
use std::convert::Infallible;

use chrono::Datelike;
use serde::Serialize;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::auth::{self, PLANNERS, STAFF, require, scope_of};
use super::error::{ApiError, recover};
use super::{AppState, visits};
use crate::auth::Principal;
use crate::domain::{RegionCode, SiteKind};
use crate::services::planning::{self, PlanError, PlanOptions};
use crate::services::ranking::{self, RankError};
use crate::store::queries;

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

fn auth_header() -> impl Filter<Extract = (Option<String>,), Error = Infallible> + Clone {
    warp::header::optional::<String>("authorization")
        .or(warp::any().map(|| None))
        .unify()
}

/// Every route. Each `warp::path!` is followed by its method filter on the next line: the
/// OpenAPI contract test reads this file to compare the router with `openapi.json`.
pub fn routes(state: AppState) -> warp::filters::BoxedFilter<(Response,)> {
    let limit = state.max_body_bytes;
    let health = warp::path!("health")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and_then(|s: AppState| async move { reply(health(s).await) })
        .boxed();
    let openapi = warp::path!("api" / "openapi.json")
        .and(warp::get())
        .map(|| {
            warp::reply::with_header(OPENAPI, "content-type", "application/json").into_response()
        })
        .boxed();
    let login = warp::path!("api" / "v1" / "auth" / "login")
        .and(warp::post())
        .and(warp::body::content_length_limit(16 * 1024))
        .and(
            warp::ext::optional::<super::server::ClientAddr>()
                .map(|c: Option<super::server::ClientAddr>| c.map(|c| c.0)),
        )
        .and(warp::header::optional::<String>("x-forwarded-for"))
        .and(json_body::<auth::LoginRequest>())
        .and(with_state(state.clone()))
        .and_then(|addr, xff, body, s: AppState| async move {
            reply(auth::login(s, addr, xff, body).await)
        })
        .boxed();
    let logout = warp::path!("api" / "v1" / "auth" / "logout")
        .and(warp::post())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|h, s: AppState| async move { reply(auth::logout(s, h).await) })
        .boxed();
    let me = warp::path!("api" / "v1" / "auth" / "me")
        .and(warp::get())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|h, s: AppState| async move { reply(auth::me(s, h).await) })
        .boxed();
    let password = warp::path!("api" / "v1" / "auth" / "password")
        .and(warp::post())
        .and(warp::body::content_length_limit(16 * 1024))
        .and(auth_header())
        .and(json_body::<auth::PasswordRequest>())
        .and(with_state(state.clone()))
        .and_then(
            |h, body, s: AppState| async move { reply(auth::change_password(s, h, body).await) },
        )
        .boxed();
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
    let priorities = warp::path!("api" / "v1" / "priorities")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(priorities(s, h, q).await) })
        .boxed();
    let site_priority = warp::path!("api" / "v1" / "sites" / i64 / "priority")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, q: Query, s: AppState| async move {
            reply(site_priority(s, h, id, q).await)
        })
        .boxed();
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
        .and(warp::query::<Query>())
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
    let teams = warp::path!("api" / "v1" / "teams")
        .and(warp::get())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|h, s: AppState| async move { reply(teams(s, h).await) })
        .boxed();
    let visits = warp::path!("api" / "v1" / "visits")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(visits::list(s, h, q).await) })
        .boxed();
    let visit = warp::path!("api" / "v1" / "visits" / i64)
        .and(warp::get())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, s: AppState| async move { reply(visits::get(s, h, id).await) })
        .boxed();
    let visit_logs = warp::path!("api" / "v1" / "visits" / i64 / "logs")
        .and(warp::get())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, s: AppState| async move { reply(visits::history(s, h, id).await) })
        .boxed();
    let create_log = warp::path!("api" / "v1" / "visits" / i64 / "logs")
        .and(warp::post())
        .and(warp::body::content_length_limit(64 * 1024))
        .and(auth_header())
        .and(warp::header::optional::<String>("idempotency-key"))
        .and(warp::body::bytes())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, key, body, s: AppState| async move {
            reply(visits::create_log(s, h, key, id, body).await)
        })
        .boxed();
    let log_list = warp::path!("api" / "v1" / "visit-logs")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(visits::list_logs(s, h, q).await) })
        .boxed();
    let log_csv = warp::path!("api" / "v1" / "visit-logs.csv")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(
            |h, q: Query, s: AppState| async move { reply(visits::export_csv(s, h, q).await) },
        )
        .boxed();
    let review = warp::path!("api" / "v1" / "visit-logs" / i64 / "review")
        .and(warp::post())
        .and(warp::body::content_length_limit(16 * 1024))
        .and(auth_header())
        .and(json_body::<visits::ReviewRequest>())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, body, s: AppState| async move {
            reply(visits::review(s, h, id, body).await)
        })
        .boxed();
    let weekly = warp::path!("api" / "v1" / "reports" / "weekly")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(visits::weekly(s, h, q).await) })
        .boxed();
    let audit = warp::path!("api" / "v1" / "audit")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(visits::audit(s, h, q).await) })
        .boxed();
    let form = warp::path!("v" / String)
        .and(warp::get())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(
            |t: String, q: Query, s: AppState| async move { reply(visits::form(s, t, q).await) },
        )
        .boxed();
    let submit = warp::path!("v" / String)
        .and(warp::post())
        .and(warp::body::content_length_limit(64 * 1024))
        .and(warp::query::<Query>())
        .and(warp::body::bytes())
        .and(with_state(state))
        .and_then(
            |t: String, q: Query, body: bytes::Bytes, s: AppState| async move {
                // A form body that does not decode is an empty form: the page then names the
                // missing fields instead of failing bare.
                let form: HashMap<String, String> =
                    serde_urlencoded::from_bytes(&body).unwrap_or_default();
                reply(visits::submit(s, t, q, form).await)
            },
        )
        .boxed();
    // Boxed one by one and folded: a chain of 35 nested `or`s makes types that take rustc
    // minutes to check.
    let all: Vec<warp::filters::BoxedFilter<(Response,)>> = vec![
        health,
        openapi,
        login,
        logout,
        me,
        password,
        region,
        sites,
        priorities,
        site_priority,
        create_plan,
        list_plans,
        get_plan,
        put_pins,
        get_pins,
        replan,
        publish,
        approve,
        outbox_list,
        outbox_retry,
        outbox_retry_many,
        teams,
        visits,
        visit,
        visit_logs,
        create_log,
        log_list,
        log_csv,
        review,
        weekly,
        audit,
        form,
        submit,
    ];
    all.into_iter()
        .reduce(|a, b| a.or(b).unify().boxed())
        .expect("at least one route")
        .recover(recover)
        .unify()
        .boxed()
}

/// The OpenAPI 3 document of every route, served at /api/openapi.json.
pub const OPENAPI: &str = include_str!("openapi.json");

/// GET /health: on its own connection with a 2 s deadline, so that it answers while the shared
/// pool and the heavy-work queue are full.
async fn health(s: AppState) -> Result<Response, ApiError> {
    match s.probe.ping().await {
        Ok(()) => Ok(json(
            &serde_json::json!({ "status": "ok", "database": "ok" }),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "health: the database does not answer");
            Ok(warp::reply::with_status(
                json(&serde_json::json!({ "status": "unavailable", "database": "unavailable" })),
                warp::http::StatusCode::SERVICE_UNAVAILABLE,
            )
            .into_response())
        }
    }
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

/// `week`, or the week after the region's current one on its own clock (WIB without a region).
fn week_param(
    q: &Query,
    region: Option<&RegionCode>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    q.get("week")
        .map(|w| w.to_string())
        .filter(|w| !w.trim().is_empty())
        .unwrap_or_else(|| match region {
            Some(r) => r.next_week(now).to_string(),
            None => crate::domain::Week::after(
                now.with_timezone(&chrono_tz::Asia::Jakarta).date_naive(),
            )
            .to_string(),
        })
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

pub const MAX_LIMIT: usize = 1000;

/// GET /api/v1/priorities?region=&week=&kind=&limit=
async fn priorities(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
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
async fn site_priority(
    s: AppState,
    h: Option<String>,
    id: i64,
    q: Query,
) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let reachable = queries::site_region(&s.db, id)
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

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanRequest {
    region: String,
    week: Option<String>,
    time_limit_s: Option<f64>,
    seed: Option<u64>,
    /// Sites the coordinator wants considered even outside the top candidates.
    #[serde(default)]
    sites: Vec<i64>,
    /// The week's share of team time per indicator, in percent (`{"kia": 40}`).
    shares: Option<std::collections::BTreeMap<String, f64>>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PinsRequest {
    pins: Vec<planning::PinInput>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplanRequest {
    time_limit_s: Option<f64>,
    seed: Option<u64>,
    /// Days before this date count as worked (default: today in the region's time zone).
    as_of: Option<chrono::NaiveDate>,
    /// Shares of team time per indicator (default: the re-planned plan's).
    shares: Option<std::collections::BTreeMap<String, f64>>,
}

/// A JSON body. Read as bytes and rejected with our own error, so that a bad body on a path that
/// other methods also serve answers 400 rather than warp's preferred 405.
fn json_body<T: serde::de::DeserializeOwned + Send>()
-> impl Filter<Extract = (T,), Error = warp::Rejection> + Clone {
    warp::body::bytes().and_then(|body: bytes::Bytes| async move {
        serde_json::from_slice(&body)
            .map_err(|e| warp::reject::custom(super::error::BadJson(e.to_string())))
    })
}

/// A JSON body, or none at all (then the type's default): `POST .../replan` needs no options.
fn json_or_empty<T: serde::de::DeserializeOwned + Default + Send>()
-> impl Filter<Extract = (T,), Error = warp::Rejection> + Clone {
    warp::body::bytes().and_then(|body: bytes::Bytes| async move {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(T::default());
        }
        serde_json::from_slice(&body)
            .map_err(|e| warp::reject::custom(super::error::BadJson(e.to_string())))
    })
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
async fn create_plan(
    s: AppState,
    h: Option<String>,
    body: PlanRequest,
) -> Result<Response, ApiError> {
    let p = require(&s, h, PLANNERS).await?;
    let region = region_param(&body.region, "region")?;
    in_scope(&p, &region)?;
    time_limit_param(body.time_limit_s)?;
    let week = body
        .week
        .filter(|w| !w.trim().is_empty())
        .unwrap_or_else(|| region.next_week(s.clock.now()).to_string());
    let options = PlanOptions {
        time_limit_s: body.time_limit_s,
        seed: body.seed,
        sites: body.sites,
        shares: body.shares,
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
async fn list_plans(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
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
    let items: Vec<serde_json::Value> = crate::store::plans::list(&s.db, region.as_str(), week.map(String::as_str))
        .await?
        .into_iter()
        .map(|p| {
            serde_json::json!({
                "id": p.id, "week": p.week, "version": p.version, "status": p.status,
                "created_at": p.created_at, "published_at": p.published_at, "approved_at": p.approved_at,
                "base_plan_id": p.base_plan_id,
                "priority_served": p.prize, "upper_bound": p.upper_bound, "visits": p.visits, "travel_s": p.travel_s,
            })
        })
        .collect();
    Ok(json(&serde_json::json!({ "items": items })))
}

fn plan_not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("Rencana {id} tidak ditemukan / plan not found"))
}

/// PUT /api/v1/plans/{id}/pins — replace the pins of the plan's region-week.
async fn put_pins(
    s: AppState,
    h: Option<String>,
    id: i64,
    body: PinsRequest,
) -> Result<Response, ApiError> {
    let p = require(&s, h, PLANNERS).await?;
    plan_in_scope(&s, &p, id).await?;
    let pins = planning::set_pins(&s.db, &s.planner, id, &body.pins).await?;
    Ok(json(&serde_json::json!({ "plan_id": id, "pins": pins })))
}

/// GET /api/v1/plans/{id}/pins
async fn get_pins(s: AppState, h: Option<String>, id: i64) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    plan_in_scope(&s, &p, id).await?;
    let pins = planning::pins(&s.db, id)
        .await?
        .ok_or_else(|| plan_not_found(id))?;
    Ok(json(&serde_json::json!({ "plan_id": id, "pins": pins })))
}

/// POST /api/v1/plans/{id}/replan — a new draft version that keeps completed and pinned visits
/// and moves as few others as it can (201 with the plan and what changed).
async fn replan(
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
        shares: body.shares,
    };
    let (new_id, changes) =
        planning::replan(&s.db, &s.ranker, &s.planner, id, as_of, &options).await?;
    let view = planning::view(&s.db, new_id)
        .await?
        .ok_or_else(|| ApiError::Internal("stored plan vanished".into()))?;
    let mut body = serde_json::to_value(&view).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["changes"] =
        serde_json::to_value(changes).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(
        warp::reply::with_status(warp::reply::json(&body), warp::http::StatusCode::CREATED)
            .into_response(),
    )
}

/// POST /api/v1/plans/{id}/publish — publish and queue the teams' emails in one transaction
/// (202: the emails go out from the outbox). Idempotent: publishing the published version again
/// queues nothing (200).
async fn publish(s: AppState, h: Option<String>, id: i64) -> Result<Response, ApiError> {
    let p = require(&s, h, PLANNERS).await?;
    plan_in_scope(&s, &p, id).await?;
    let outcome = crate::services::publishing::publish(&s.db, &s.mail, id, &p.actor()).await?;
    if outcome.emails_queued > 0 {
        s.wake.notify_one();
    }
    let view = planning::view(&s.db, id)
        .await?
        .ok_or_else(|| plan_not_found(id))?;
    let mut body = serde_json::to_value(&view).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["newly_published"] = serde_json::Value::Bool(outcome.newly_published);
    body["emails_queued"] = outcome.emails_queued.into();
    body["teams_notified"] = outcome.teams_notified.into();
    let status = if outcome.newly_published {
        warp::http::StatusCode::ACCEPTED
    } else {
        warp::http::StatusCode::OK
    };
    Ok(warp::reply::with_status(warp::reply::json(&body), status).into_response())
}

/// POST /api/v1/plans/{id}/approve — the weekly trigger may publish and send this version.
async fn approve(s: AppState, h: Option<String>, id: i64) -> Result<Response, ApiError> {
    let p = require(&s, h, PLANNERS).await?;
    plan_in_scope(&s, &p, id).await?;
    use crate::store::plans::Approval;
    let plan = match crate::store::plans::approve(&s.db, id, &p.actor()).await? {
        Approval::NotFound => return Err(plan_not_found(id)),
        Approval::Superseded { newest } => {
            return Err(ApiError::Conflict(format!(
                "Rencana {id} sudah digantikan oleh versi yang lebih baru ({newest}); setujui versi terbaru / plan {id} is superseded by {newest}: approve the newest version"
            )));
        }
        Approval::Done(plan) => plan,
    };
    Ok(json(&serde_json::json!({
        "id": plan.id, "region": plan.region_code, "week": plan.week, "version": plan.version,
        "status": plan.status, "approved_at": plan.approved_at,
    })))
}

/// One outbox row without its bodies.
fn outbox_item(m: &crate::store::entity::email_outbox::Model) -> serde_json::Value {
    serde_json::json!({
        "id": m.id, "kind": m.kind, "plan_id": m.plan_id, "team_id": m.team_id,
        "region": m.region_code, "recipient": m.recipient, "language": m.language,
        "subject": m.subject, "message_id": m.message_id, "status": m.status,
        "attempts": m.attempts, "max_attempts": m.max_attempts,
        "next_attempt_at": m.next_attempt_at, "last_error": m.last_error,
        "smtp_response": m.smtp_response, "created_at": m.created_at, "sent_at": m.sent_at,
    })
}

pub const OUTBOX_STATUSES: [&str; 5] = ["pending", "sending", "sent", "failed", "dead"];

/// GET /api/v1/outbox?status=&plan=&limit=
async fn outbox_list(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let scope = scope_of(&p)?;
    let status = q.get("status").map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(st) = status
        && !OUTBOX_STATUSES.contains(&st)
    {
        return Err(ApiError::BadRequest(format!(
            "parameter status: salah satu dari / one of {}",
            OUTBOX_STATUSES.join(", ")
        )));
    }
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
    let rows = crate::store::outbox::list(&s.db, scope.as_ref(), status, plan, limit).await?;
    let items: Vec<_> = rows.iter().map(outbox_item).collect();
    Ok(json(&serde_json::json!({ "items": items })))
}

/// POST /api/v1/outbox/{id}/retry — put a failed or dead email back in the queue.
async fn outbox_retry(s: AppState, h: Option<String>, id: i64) -> Result<Response, ApiError> {
    use crate::store::outbox::Retry;
    let p = require(&s, h, PLANNERS).await?;
    let reachable = crate::store::outbox::get(&s.db, id)
        .await?
        .is_some_and(|m| p.covers_region(&m.region_code));
    if !reachable {
        return Err(ApiError::NotFound(format!(
            "Email {id} tidak ditemukan / email not found"
        )));
    }
    match crate::store::outbox::retry(&s.db, id, &p.actor(), chrono::Utc::now()).await? {
        Retry::NotFound => Err(ApiError::NotFound(format!(
            "Email {id} tidak ditemukan / email not found"
        ))),
        Retry::NotRetriable(status) => Err(ApiError::Conflict(format!(
            "Email {id} berstatus {status}; hanya failed atau dead yang bisa diulang / only failed or dead emails can be retried"
        ))),
        Retry::Requeued(row) => {
            s.wake.notify_one();
            Ok(json(&outbox_item(&row)))
        }
    }
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
    let statuses = match body.status.as_deref().map(str::trim) {
        None | Some("") => Vec::new(),
        Some(st @ ("failed" | "dead")) => vec![st.to_string()],
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "status: failed atau dead / failed or dead, bukan / not {other:?}"
            )));
        }
    };
    let region = match &body.region {
        None => None,
        Some(r) => {
            let r = region_param(r, "region")?;
            in_scope(&p, &r)?;
            Some(r)
        }
    };
    let filter = crate::store::outbox::RetryFilter {
        statuses,
        plan: body.plan,
        region,
    };
    let ids = crate::store::outbox::retry_many(
        &s.db,
        scope.as_ref(),
        &filter,
        &p.actor(),
        chrono::Utc::now(),
    )
    .await?;
    if !ids.is_empty() {
        s.wake.notify_one();
    }
    Ok(json(
        &serde_json::json!({ "requeued": ids.len(), "ids": ids }),
    ))
}

/// GET /api/v1/plans/{id} and GET /api/v1/plans/{id}.geojson
async fn get_plan(s: AppState, h: Option<String>, raw: String) -> Result<Response, ApiError> {
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

/// A region the caller must reach (403 otherwise: region codes are public, plans are not).
fn in_scope(p: &Principal, region: &RegionCode) -> Result<(), ApiError> {
    if p.covers_region(region.as_str()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "Wilayah {region} di luar cakupan Anda / region outside your scope"
        )))
    }
}

/// A plan the caller reaches, else "not found" (ids reveal nothing).
async fn plan_in_scope(
    s: &AppState,
    p: &Principal,
    id: i64,
) -> Result<crate::store::entity::plans::Model, ApiError> {
    crate::store::plans::load_plan(&s.db, id)
        .await?
        .filter(|plan| p.covers_region(&plan.region_code))
        .ok_or_else(|| plan_not_found(id))
}

pub(super) fn region_param(raw: &str, name: &str) -> Result<RegionCode, ApiError> {
    RegionCode::parse(raw).map_err(|e| ApiError::BadRequest(format!("parameter {name}: {e}")))
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
    let detail = queries::region_detail(&s.db, &code, year, boundary)
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
        &queries::list_sites(&s.db, region.as_ref(), &kinds, page, per_page).await?,
    ))
}

pub const MAX_PAGE: u64 = 1_000_000;

/// GET /api/v1/teams
async fn teams(s: AppState, h: Option<String>) -> Result<Response, ApiError> {
    let p = require(&s, h, auth::ANY).await?;
    let items: Vec<_> = queries::list_teams(&s.db)
        .await?
        .into_iter()
        .filter(|t| p.covers_team(t.id, &t.kabupaten_code))
        .collect();
    Ok(json(&serde_json::json!({ "items": items })))
}
