//! GET /health: whether the service and its database answer.

use warp::reply::Response;
use warp::{Filter, Reply};

use super::AppState;
use super::error::ApiError;
use super::params::{Route, json, reply, route, with_state};
use super::schemas::Internal;

pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let health = warp::path!("health")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and_then(|s: AppState| async move { reply(health(s).await) })
        .boxed();
    vec![route("GET", "/health", health)]
}

/// The service and its database answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    #[schema(example = "ok")]
    status: &'static str,
    /// `ok` or `unavailable`.
    #[schema(example = "ok")]
    database: &'static str,
}

/// GET /health: on its own connection with a 2 s deadline, so that it answers while the shared
/// pool and the heavy-work queue are full.
#[utoipa::path(get, path = "/health", tag = "service", operation_id = "health",
    responses(
        (status = 200, description = "The service and its database answer.", body = Health),
        (status = 503, description = "The database does not answer within 2 s (on the health \
            check's own connection, not the shared pool).", body = Health),
        (status = 500, response = Internal),
    ))]
pub(super) async fn health(s: AppState) -> Result<Response, ApiError> {
    match s.probe.ping().await {
        Ok(()) => Ok(json(&Health {
            status: "ok",
            database: "ok",
        })),
        Err(e) => {
            tracing::warn!(error = %e, "health: the database does not answer");
            let down = Health {
                status: "unavailable",
                database: "unavailable",
            };
            Ok(
                warp::reply::with_status(json(&down), warp::http::StatusCode::SERVICE_UNAVAILABLE)
                    .into_response(),
            )
        }
    }
}
