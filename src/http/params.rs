//! What every resource's routes share: the query map, the state and header filters, JSON bodies
//! and replies, and the parameters that several resources read (region, week, kinds, limits).

use std::collections::HashMap;
use std::convert::Infallible;

use serde::Serialize;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::{ApiError, AppState};
use crate::auth::Principal;
use crate::domain::{RegionCode, SiteKind};

pub(super) type Query = HashMap<String, String>;

/// One route: its method and path as the OpenAPI document writes them (`/api/v1/plans/{id}`),
/// and the filter that serves it. `tests/api/openapi.rs` holds the two to each other.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    /// An API operation (in the OpenAPI document), not a console page.
    pub documented: bool,
    pub(super) filter: BoxedFilter<(Response,)>,
}

pub(super) fn route(
    method: &'static str,
    path: &'static str,
    filter: BoxedFilter<(Response,)>,
) -> Route {
    Route {
        method,
        path,
        documented: true,
        filter,
    }
}

/// A console page (`/app/…`): routed and in the authorization matrix, not in the API document.
pub(super) fn page_route(
    method: &'static str,
    path: &'static str,
    filter: BoxedFilter<(Response,)>,
) -> Route {
    Route {
        documented: false,
        ..route(method, path, filter)
    }
}

/// The query string as a map. A parameter given twice or given empty is refused (400) rather
/// than one value silently winning or an empty one silently meaning "absent": the document
/// states each parameter's form, and the server holds to it.
pub(super) fn query() -> impl Filter<Extract = (Query,), Error = warp::Rejection> + Clone {
    warp::query::raw()
        .or(warp::any().map(String::new))
        .unify()
        .and_then(|raw: String| async move {
            let bad = |m: String| warp::reject::custom(super::error::BadQuery(m));
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_str(&raw).map_err(|e| bad(e.to_string()))?;
            let mut query = Query::with_capacity(pairs.len());
            for (name, value) in pairs {
                if value.trim().is_empty() {
                    return Err(bad(format!(
                        "parameter {name} kosong: hilangkan atau beri nilai / empty: leave it \
                         out or give a value"
                    )));
                }
                if query.contains_key(&name) {
                    return Err(bad(format!(
                        "parameter {name} lebih dari sekali / given more than once"
                    )));
                }
                query.insert(name, value);
            }
            Ok(query)
        })
}

pub(super) fn with_state(
    state: AppState,
) -> impl Filter<Extract = (AppState,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

pub(super) fn json<T: Serialize>(value: &T) -> Response {
    warp::reply::json(value).into_response()
}

pub(super) fn reply(result: Result<Response, ApiError>) -> Result<Response, Infallible> {
    Ok(result.unwrap_or_else(ApiError::into_response))
}

pub(super) fn auth_header() -> impl Filter<Extract = (Option<String>,), Error = Infallible> + Clone
{
    warp::header::optional::<String>("authorization")
        .or(warp::any().map(|| None))
        .unify()
}

pub(super) fn param<T: std::str::FromStr>(
    q: &Query,
    name: &str,
    default: T,
) -> Result<T, ApiError> {
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("parameter {name}: nilai tidak sah {v:?}"))),
    }
}

pub(super) fn kinds_param(q: &Query) -> Result<Vec<SiteKind>, ApiError> {
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
pub(super) fn week_param(
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

pub const MAX_LIMIT: usize = 1000;

/// A JSON body. Read as bytes and rejected with our own error, so that a bad body on a path that
/// other methods also serve answers 400 rather than warp's preferred 405.
pub(super) fn json_body<T: serde::de::DeserializeOwned + Send>()
-> impl Filter<Extract = (T,), Error = warp::Rejection> + Clone {
    warp::body::bytes().and_then(|body: bytes::Bytes| async move {
        serde_json::from_slice(&body)
            .map_err(|e| warp::reject::custom(super::error::BadJson(e.to_string())))
    })
}

/// A JSON body, or none at all (then the type's default): `POST .../replan` needs no options.
pub(super) fn json_or_empty<T: serde::de::DeserializeOwned + Default + Send>()
-> impl Filter<Extract = (T,), Error = warp::Rejection> + Clone {
    warp::body::bytes().and_then(|body: bytes::Bytes| async move {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(T::default());
        }
        serde_json::from_slice(&body)
            .map_err(|e| warp::reject::custom(super::error::BadJson(e.to_string())))
    })
}

/// A region the caller must reach (403 otherwise: region codes are public, plans are not).
pub(super) fn in_scope(p: &Principal, region: &RegionCode) -> Result<(), ApiError> {
    if p.covers_region(region.as_str()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "Wilayah {region} di luar cakupan Anda / region outside your scope"
        )))
    }
}

pub(super) fn region_param(raw: &str, name: &str) -> Result<RegionCode, ApiError> {
    RegionCode::parse(raw).map_err(|e| ApiError::BadRequest(format!("parameter {name}: {e}")))
}

/// A parameter's value, if given (the query filter already refused empty ones).
pub(super) fn opt<'a>(q: &'a Query, k: &str) -> Option<&'a str> {
    q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
}

pub(super) fn region_q(q: &Query, k: &str) -> Result<Option<RegionCode>, ApiError> {
    opt(q, k).map(|r| region_param(r, k)).transpose()
}

pub(super) fn int_q(q: &Query, k: &str) -> Result<Option<i64>, ApiError> {
    opt(q, k)
        .map(|v| {
            v.parse()
                .map_err(|_| ApiError::BadRequest(format!("parameter {k}: nilai tidak sah {v:?}")))
        })
        .transpose()
}

/// An id parameter (`team`, `plan`): a whole number from 1.
pub(super) fn id_q(q: &Query, k: &str) -> Result<Option<i64>, ApiError> {
    match int_q(q, k)? {
        Some(id) if id < 1 => Err(ApiError::BadRequest(format!(
            "parameter {k}: id dimulai dari 1 / ids start at 1"
        ))),
        id => Ok(id),
    }
}

pub(super) fn week_q(q: &Query) -> Result<Option<String>, ApiError> {
    opt(q, "week")
        .map(|w| {
            crate::services::ranking::week_start(w)
                .map(|_| w.to_string())
                .map_err(ApiError::BadRequest)
        })
        .transpose()
}

/// An urlencoded form body of at most `limit` bytes. A body that does not decode is an empty
/// form: the page then names the missing fields instead of failing bare.
pub(super) fn form_fields(
    limit: u64,
) -> impl Filter<Extract = (HashMap<String, String>,), Error = warp::Rejection> + Clone {
    warp::body::content_length_limit(limit)
        .and(warp::body::bytes())
        .map(|body: bytes::Bytes| serde_urlencoded::from_bytes(&body).unwrap_or_default())
}
