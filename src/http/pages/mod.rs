//! The console: server-rendered pages (`/app/…`) for coordinators, managers and field members, on
//! the same services and the same sessions as the API. A session cookie (`HttpOnly`,
//! `SameSite=Strict`, `Secure` when `web.secure_cookies`) carries the session token the API takes
//! as a bearer token; every form carries a CSRF token bound to that session
//! (`crate::auth::csrf_token`). Pages speak Bahasa Indonesia unless the person chose English.

mod actions;
mod assets;
mod overview;
mod plan;
mod review;
mod session;
mod templates;
mod week;

use std::collections::HashMap;

use warp::Filter;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;

use super::params::{Query, Route};
use super::{ApiError, AppState};
use crate::auth::{Principal, Role};

pub use session::csrf_for_session;

pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let mut all = session::routes(state);
    all.extend(assets::routes());
    all.extend(overview::routes(state));
    all.extend(week::routes(state));
    all.extend(actions::routes(state));
    all.extend(review::routes(state));
    all
}

/// The session cookie's name.
const SESSION: &str = "jemput_session";
/// Before sign-in: the nonce the sign-in form's CSRF token is bound to.
const PRE: &str = "jemput_pre";
/// The language a person chose (`id` or `en`), when not their account's.
const LANG: &str = "jemput_lang";

/// What every page request carries: its cookies and where it was going.
#[derive(Debug, Clone)]
pub(super) struct Req {
    token: Option<String>,
    pre: Option<String>,
    lang: Option<String>,
    /// Path and query, for the way back after sign-in and the language switch.
    path: String,
}

impl Req {
    fn lang(&self) -> Lang {
        Lang::from_code(self.lang.as_deref().unwrap_or("id"))
    }
}

fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name && !v.is_empty()).then_some(v)
    })
}

/// The `Req` of every page request.
pub(super) fn req() -> impl Filter<Extract = (Req,), Error = std::convert::Infallible> + Clone {
    warp::header::optional::<String>("cookie")
        .or(warp::any().map(|| None))
        .unify()
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .map(|c: Option<String>, path: warp::path::FullPath, q: String| {
            let c = c.unwrap_or_default();
            let get = |n: &str| cookie(&c, n).map(str::to_string);
            let token = get(SESSION).filter(|t| t.starts_with("fs_") && t.len() < 100);
            Req {
                token,
                pre: get(PRE).filter(|t| t.len() < 100),
                lang: get(LANG).filter(|l| l == "id" || l == "en"),
                path: if q.is_empty() {
                    path.as_str().to_string()
                } else {
                    format!("{}?{q}", path.as_str())
                },
            }
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    Id,
    En,
}

impl Lang {
    fn from_code(c: &str) -> Self {
        if c == "en" { Lang::En } else { Lang::Id }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// Pick the words of this language.
    fn t<'a>(self, id: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }
}

/// A signed-in person on a page.
pub(super) struct Visitor {
    p: Principal,
    name: String,
    lang: Lang,
    /// This session's CSRF token, for the page's forms.
    csrf: String,
    token: String,
    /// The page's own path and query (the language switch comes back to it).
    path: String,
}

impl Visitor {
    /// The kabupaten/kota (or province) the person works in; an admin's pages take it from the
    /// path.
    fn home(&self) -> Option<&str> {
        self.p.region.as_deref()
    }
}

/// The person signed in on this request, if their role is one of `roles`.
pub(super) async fn visitor(s: &AppState, r: &Req, roles: &[Role]) -> Result<Visitor, ApiError> {
    let token = r.token.clone().unwrap_or_default();
    let p = super::auth::require_token(s, r.token.as_deref(), roles).await?;
    let user = crate::services::accounts::user(&s.db, p.user_id).await?;
    let lang = match (&r.lang, &user) {
        (Some(l), _) => Lang::from_code(l),
        (None, Some(u)) => Lang::from_code(&u.language),
        (None, None) => Lang::Id,
    };
    Ok(Visitor {
        name: user.map(|u| u.display_name).unwrap_or_default(),
        csrf: crate::auth::csrf_token(s.auth.link_secret.expose(), &token),
        token,
        p,
        lang,
        path: r.path.clone(),
    })
}

/// A form body (URL-encoded), each field once.
pub(super) fn form()
-> impl Filter<Extract = (HashMap<String, String>,), Error = warp::Rejection> + Clone {
    warp::body::content_length_limit(64 * 1024)
        .and(warp::body::bytes())
        .map(|b: bytes::Bytes| {
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(&b)
                .map(|pairs| {
                    let mut map = HashMap::new();
                    for (k, v) in pairs {
                        map.entry(k).or_insert(v);
                    }
                    map
                })
                .unwrap_or_default()
        })
}

/// The form's CSRF token must be the session's: a form posted from another site has none.
fn check_csrf(v: &Visitor, s: &AppState, f: &HashMap<String, String>) -> Result<(), ApiError> {
    let given = f.get("csrf").map(String::as_str).unwrap_or_default();
    if crate::auth::csrf_matches(s.auth.link_secret.expose(), &v.token, given) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            v.lang
                .t(
                    "Formulir kedaluwarsa atau bukan dari halaman ini. Muat ulang halaman lalu coba lagi.",
                    "The form expired or did not come from this page. Reload the page and try again.",
                )
                .into(),
        ))
    }
}

/// A signed-in person posting a form from one of our pages.
pub(super) async fn poster(
    s: &AppState,
    r: &Req,
    roles: &[Role],
    f: &HashMap<String, String>,
) -> Result<Visitor, ApiError> {
    let v = visitor(s, r, roles).await?;
    check_csrf(&v, s, f)?;
    Ok(v)
}

pub(super) fn html(status: StatusCode, body: String) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    // Scripts only from this server (no inline script runs); tiles may come from the configured
    // tile server over HTTPS.
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: https:; frame-ancestors 'none'; form-action 'self'; \
             base-uri 'none'",
        ),
    );
    resp
}

/// 303 See Other: after a form, the browser GETs the result.
pub(super) fn see_other(to: &str) -> Response {
    let mut resp = Response::new(Default::default());
    *resp.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert("location", v);
    }
    resp.headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    resp
}

/// A page's outcome as a response: errors as a page in the reader's language; a GET without a
/// session goes to the sign-in page and comes back.
pub(super) async fn page(
    s: &AppState,
    r: &Req,
    get: bool,
    result: Result<Response, ApiError>,
) -> Result<Response, std::convert::Infallible> {
    Ok(match result {
        Ok(resp) => resp,
        Err(ApiError::Unauthorized(_)) if get => {
            see_other(&format!("/app/login?next={}", urlencode(&r.path)))
        }
        // A signed-in person keeps the header and menu around the error.
        Err(e) => match visitor(s, r, crate::http::auth::ANY).await {
            Ok(v) => error_page(v.lang, e, Some(&base(&v, s, None, ""))),
            Err(_) => error_page(r.lang(), e, None),
        },
    })
}

pub(super) fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

fn error_page(lang: Lang, e: ApiError, layout: Option<&minijinja::Value>) -> Response {
    let (status, title) = match &e {
        ApiError::NotFound(_) => (
            StatusCode::NOT_FOUND,
            lang.t("Tidak ditemukan", "Not found"),
        ),
        ApiError::BadRequest(_) | ApiError::Invalid { .. } => (
            StatusCode::BAD_REQUEST,
            lang.t("Permintaan tidak sah", "Bad request"),
        ),
        ApiError::Conflict(_) => (
            StatusCode::CONFLICT,
            lang.t("Tidak dapat dilakukan sekarang", "Not possible now"),
        ),
        ApiError::Unauthorized(_) => (
            StatusCode::UNAUTHORIZED,
            lang.t("Perlu masuk", "Sign-in required"),
        ),
        ApiError::Forbidden(_) => (
            StatusCode::FORBIDDEN,
            lang.t("Tidak diizinkan", "Not allowed"),
        ),
        ApiError::TooMany(_) | ApiError::Busy(_) | ApiError::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            lang.t("Server sibuk", "Server busy"),
        ),
        ApiError::Internal(m) => {
            tracing::error!(error = %m, "console page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                lang.t("Terjadi kesalahan", "Something went wrong"),
            )
        }
    };
    let message = match e {
        ApiError::Internal(_) => lang
            .t(
                "Kesalahan di server; sudah dicatat. Coba lagi sebentar lagi.",
                "A server error; it was logged. Try again shortly.",
            )
            .to_string(),
        other => other.to_string(),
    };
    let body = match layout {
        Some(ctx) => templates::render(
            "error_in_layout.html",
            minijinja::context! { title, message, status => status.as_u16(), ..ctx.clone() },
        ),
        None => templates::render(
            "error.html",
            minijinja::context! { lang => lang.code(), title, message, status => status.as_u16() },
        ),
    }
    .unwrap_or_else(|_| format!("<!doctype html><title>{status}</title><p>{status}</p>"));
    html(status, body)
}

/// The region a page is about, reached by the visitor (403 otherwise).
pub(super) fn region_of(v: &Visitor, code: &str) -> Result<crate::domain::RegionCode, ApiError> {
    let region = super::params::region_param(code, "code")?;
    super::params::in_scope(&v.p, &region)?;
    Ok(region)
}

/// The context every page's layout reads: who is signed in, their language, the navigation.
pub(super) fn base(
    v: &Visitor,
    s: &AppState,
    region: Option<&str>,
    here: &str,
) -> minijinja::Value {
    let region = region.or(v.home()).unwrap_or_default().to_string();
    minijinja::context! {
        lang => v.lang.code(),
        user => v.name.clone(),
        role => v.p.role.as_str(),
        csrf => v.csrf.clone(),
        region,
        here,
        next_here => v.path.clone(),
        tiles => minijinja::context! {
            url => s.web.tile_url.clone(),
            attribution => s.web.tile_attribution.clone(),
        },
    }
}

/// One rendered page, 200.
pub(super) fn ok(name: &str, ctx: minijinja::Value) -> Result<Response, ApiError> {
    Ok(html(StatusCode::OK, templates::render(name, ctx)?))
}

pub(super) fn query_of(q: &Query, k: &str) -> Option<String> {
    super::params::opt(q, k).map(str::to_string)
}

/// What a page handler returns.
pub(super) type Answer = std::pin::Pin<Box<dyn Future<Output = Result<Response, ApiError>> + Send>>;

/// A page: `path` (with its one parameter, or `()`) read by GET, the query string for `handler`.
pub(super) fn get_page<P: Send + 'static>(
    state: &AppState,
    path: impl Filter<Extract = (P,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    handler: fn(AppState, Req, P, Query) -> Answer,
) -> warp::filters::BoxedFilter<(Response,)> {
    path.and(warp::get())
        .and(req())
        .and(super::params::query())
        .and(super::params::with_state(state.clone()))
        .and_then(move |p, r: Req, q, s: AppState| async move {
            let (state, req) = (s.clone(), r.clone());
            page(&state, &req, true, handler(s, r, p, q).await).await
        })
        .boxed()
}

/// A form posted to `path` (with its one parameter, or `()`), its fields for `handler`.
pub(super) fn post_form<P: Send + 'static>(
    state: &AppState,
    path: impl Filter<Extract = (P,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    handler: fn(AppState, Req, P, HashMap<String, String>) -> Answer,
) -> warp::filters::BoxedFilter<(Response,)> {
    path.and(warp::post())
        .and(req())
        .and(form())
        .and(super::params::with_state(state.clone()))
        .and_then(move |p, r: Req, f, s: AppState| async move {
            let (state, req) = (s.clone(), r.clone());
            page(&state, &req, false, handler(s, r, p, f).await).await
        })
        .boxed()
}
