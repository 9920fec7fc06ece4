//! Every route: each resource module contributes its own (`routes(&state)`); each `warp::path!`
//! is followed by its method filter on the next line — the OpenAPI contract test reads the
//! modules of `src/http` to compare the router with `openapi.json`.

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::error::{ApiError, recover};
use super::params::{json, reply, with_state};
use super::{AppState, auth, catalog, emails, form, plans, priorities, reports, review, visits};

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
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
    let mut all = vec![health, openapi];
    all.extend(auth::routes(&state));
    all.extend(catalog::routes(&state));
    all.extend(priorities::routes(&state));
    all.extend(plans::routes(&state));
    all.extend(emails::routes(&state));
    all.extend(visits::routes(&state));
    all.extend(form::routes(&state));
    all.extend(review::routes(&state));
    all.extend(reports::routes(&state));
    // Boxed one by one and folded: a chain of 35 nested `or`s makes types that take rustc
    // minutes to check.
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
