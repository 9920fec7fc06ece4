use serde::Serialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Rejection, Reply};

use crate::store::StoreError;

/// Errors of the HTTP layer. Internal causes are logged, never sent to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// Valid, but the current state cannot honour it.
    #[error("{0}")]
    Conflict(String),
    #[error("database busy")]
    Unavailable,
    /// At the bound of heavy work; retry after this many seconds.
    #[error("server sibuk, coba lagi / server busy, retry")]
    Busy(u64),
    /// No credentials, or not valid ones.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but the role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; retry after this many seconds.
    #[error("terlalu banyak percobaan / too many attempts")]
    TooMany(u64),
    /// Well-formed but invalid: one message per field.
    #[error("{message}")]
    Invalid {
        message: String,
        errors: Vec<crate::fieldlog::FieldError>,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

/// Every error the API answers, whatever its status.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorBody)]
struct Body<'a> {
    /// What went wrong, for programs: `bad_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `no_route`, `conflict`, `invalid`, `too_many_requests`, `busy`, `unavailable`,
    /// `internal`, …
    code: &'a str,
    /// What went wrong, for people (Bahasa Indonesia / English).
    message: &'a str,
    /// With `internal`: the id under which the cause was logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    /// With `invalid`: one message per field.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::fieldlog::FieldError>>)]
    errors: Option<&'a [crate::fieldlog::FieldError]>,
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_busy() {
            tracing::warn!(error = %e, "database busy");
            ApiError::Unavailable
        } else if e.is_unique_violation() {
            // Two requests raced for the same key; the database kept one.
            tracing::info!(error = %e, "unique constraint: a concurrent request won");
            ApiError::Conflict(
                "Permintaan lain yang sama baru saja tersimpan; muat ulang dan coba lagi / a concurrent request was saved first; reload and retry".into(),
            )
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    pub fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let mut request_id = None;
        let message = match &self {
            ApiError::Internal(cause) => {
                // The cause goes to the log under an id the caller can quote; the body says
                // nothing about SQL, crates or paths.
                let id = super::server::current_request_id()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
                tracing::error!(request_id = %id, %cause, "request failed");
                request_id = Some(id);
                "Terjadi kesalahan di server / internal server error".to_string()
            }
            ApiError::Unavailable => {
                "Basis data sibuk, coba lagi / database busy, retry".to_string()
            }
            other => other.to_string(),
        };
        let errors = match &self {
            ApiError::Invalid { errors, .. } => Some(errors.as_slice()),
            _ => None,
        };
        let mut resp = warp::reply::with_status(
            warp::reply::json(&Envelope {
                error: Body {
                    code,
                    message: &message,
                    request_id,
                    errors,
                },
            }),
            status,
        )
        .into_response();
        match &self {
            ApiError::Unavailable => {
                resp.headers_mut()
                    .insert("retry-after", warp::http::HeaderValue::from_static("1"));
            }
            ApiError::TooMany(secs) | ApiError::Busy(secs) => {
                resp.headers_mut()
                    .insert("retry-after", warp::http::HeaderValue::from((*secs).max(1)));
            }
            ApiError::Unauthorized(_) => {
                resp.headers_mut().insert(
                    "www-authenticate",
                    warp::http::HeaderValue::from_static("Bearer"),
                );
            }
            _ => {}
        }
        resp
    }
}

/// A body that is not the JSON a route expects (for bodies read as bytes first).
#[derive(Debug)]
pub struct BadJson(pub String);

impl warp::reject::Reject for BadJson {}

/// A query string that does not parse, or names a parameter twice.
#[derive(Debug)]
pub struct BadQuery(pub String);

impl warp::reject::Reject for BadQuery {}

/// Map warp's own rejections (no route matched, wrong method, body problems) into the envelope.
pub async fn recover(rejection: Rejection) -> Result<Response, std::convert::Infallible> {
    let (status, code, message) = if rejection.is_not_found() {
        (
            StatusCode::NOT_FOUND,
            "no_route",
            "Alamat tidak ditemukan / no such route".to_string(),
        )
    } else if let Some(BadJson(e)) = rejection.find::<BadJson>() {
        // Before "method not allowed" (here and for a body too large): the route matched, its
        // body did not; the other methods' routes on the same path also reject, with 405.
        (
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("Isi JSON tidak sah / invalid JSON body: {e}"),
        )
    } else if let Some(BadQuery(e)) = rejection.find::<BadQuery>() {
        (
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("Parameter tidak sah / invalid query: {e}"),
        )
    } else if rejection.find::<warp::reject::PayloadTooLarge>().is_some() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Isi permintaan terlalu besar / body too large".to_string(),
        )
    } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Metode tidak diizinkan / method not allowed".to_string(),
        )
    } else if let Some(e) = rejection.find::<warp::reject::InvalidQuery>() {
        (StatusCode::BAD_REQUEST, "bad_request", e.to_string())
    } else if let Some(e) = rejection.find::<warp::body::BodyDeserializeError>() {
        (StatusCode::BAD_REQUEST, "bad_request", e.to_string())
    } else if rejection.find::<warp::reject::LengthRequired>().is_some() {
        (
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "Content-Length wajib / Content-Length required".to_string(),
        )
    } else if rejection
        .find::<warp::reject::UnsupportedMediaType>()
        .is_some()
    {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Jenis isi tidak didukung / unsupported content type".to_string(),
        )
    } else {
        tracing::error!(?rejection, "unhandled rejection");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Terjadi kesalahan di server / internal server error".to_string(),
        )
    };
    Ok(warp::reply::with_status(
        warp::reply::json(&Envelope {
            error: Body {
                code,
                message: &message,
                request_id: None,
                errors: None,
            },
        }),
        status,
    )
    .into_response())
}
