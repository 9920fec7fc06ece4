//! Signing in and out of the console, the language switch and the front door (`/app`), which sends
//! each person to their own start page.

use std::collections::HashMap;
use std::net::SocketAddr;

use warp::Filter;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;

use super::{
    LANG, Lang, PRE, Req, SESSION, form, get_page, html, page, post_form, poster, req, see_other,
    visitor,
};
use crate::auth::Role;
use crate::http::auth::ANY;
use crate::http::params::{Route, page_route, with_state};
use crate::http::{ApiError, AppState};
use crate::services::accounts;

/// The CSRF token of a session's forms (what the pages put in their hidden `csrf` field).
pub fn csrf_for_session(s: &AppState, session_token: &str) -> String {
    crate::auth::csrf_token(s.auth.link_secret.expose(), session_token)
}

/// Where to go after signing in: a console page of ours, never another site.
fn safe_next(next: Option<&String>) -> String {
    next.map(|n| n.trim())
        .filter(|n| n.starts_with("/app") && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/app")
        .to_string()
}

fn set_cookie(resp: &mut Response, s: &AppState, name: &str, value: &str, max_age: i64) {
    let secure = if s.web.secure_cookies { "; Secure" } else { "" };
    let c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append("set-cookie", v);
    }
}

fn login_page(
    s: &AppState,
    lang: Lang,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<String>,
) -> Result<Response, ApiError> {
    // A fresh nonce per form shown: the sign-in form's CSRF token is bound to it.
    let nonce = crate::auth::random_key();
    let body = super::templates::render(
        "login.html",
        minijinja::context! {
            lang => lang.code(),
            csrf => crate::auth::csrf_token(s.auth.link_secret.expose(), &format!("pre:{nonce}")),
            next, username, error,
        },
    )?;
    let mut resp = html(status, body);
    set_cookie(&mut resp, s, PRE, &nonce, 3600);
    Ok(resp)
}

async fn login_form(
    s: AppState,
    r: Req,
    q: crate::http::params::Query,
) -> Result<Response, ApiError> {
    let next = safe_next(q.get("next"));
    if visitor(&s, &r, ANY).await.is_ok() {
        return Ok(see_other(&next));
    }
    login_page(&s, r.lang(), StatusCode::OK, &next, "", None)
}

async fn sign_in(
    s: AppState,
    r: Req,
    remote: Option<SocketAddr>,
    xff: Option<String>,
    f: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let lang = r.lang();
    let next = safe_next(f.get("next"));
    let username = f.get("username").cloned().unwrap_or_default();
    let nonce = r.pre.clone().unwrap_or_default();
    let given = f.get("csrf").map(String::as_str).unwrap_or_default();
    if nonce.is_empty()
        || !crate::auth::csrf_matches(s.auth.link_secret.expose(), &format!("pre:{nonce}"), given)
    {
        let msg = lang.t(
            "Formulir masuk kedaluwarsa. Silakan coba lagi.",
            "The sign-in form expired. Please try again.",
        );
        return login_page(
            &s,
            lang,
            StatusCode::FORBIDDEN,
            &next,
            &username,
            Some(msg.into()),
        );
    }
    let password = f.get("password").cloned().unwrap_or_default();
    if username.trim().is_empty()
        || password.is_empty()
        || username.len() > 64
        || password.len() > 256
    {
        let msg = lang.t(
            "Isi nama pengguna dan kata sandi.",
            "Enter your username and password.",
        );
        return login_page(
            &s,
            lang,
            StatusCode::BAD_REQUEST,
            &next,
            &username,
            Some(msg.into()),
        );
    }
    let user = match super::super::auth::authenticate(&s, remote, xff, &username, password).await {
        Ok(u) => u,
        Err(ApiError::Unauthorized(_)) => {
            let msg = lang.t(
                "Nama pengguna atau kata sandi salah.",
                "Wrong username or password.",
            );
            return login_page(
                &s,
                lang,
                StatusCode::UNAUTHORIZED,
                &next,
                &username,
                Some(msg.into()),
            );
        }
        Err(ApiError::TooMany(wait)) => {
            let msg = match lang {
                Lang::Id => format!("Terlalu banyak percobaan. Coba lagi dalam {wait} detik."),
                Lang::En => format!("Too many attempts. Try again in {wait} seconds."),
            };
            return login_page(
                &s,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                &next,
                &username,
                Some(msg),
            );
        }
        Err(e) => return Err(e),
    };
    let ttl = s.auth.session_ttl;
    let token = accounts::open_session(&s.db, &user, chrono::Utc::now() + ttl).await?;
    let mut resp = see_other(&next);
    set_cookie(&mut resp, &s, SESSION, &token, ttl.num_seconds());
    set_cookie(&mut resp, &s, PRE, "", 0);
    Ok(resp)
}

async fn sign_out(s: AppState, r: Req, f: HashMap<String, String>) -> Result<Response, ApiError> {
    let v = poster(&s, &r, ANY, &f).await?;
    accounts::end_session(&s.db, &v.token).await?;
    let mut resp = see_other("/app/login");
    set_cookie(&mut resp, &s, SESSION, "", 0);
    Ok(resp)
}

/// The front door: each person's own start page.
async fn front(s: AppState, r: Req) -> Result<Response, ApiError> {
    let v = visitor(&s, &r, ANY).await?;
    match (&v.p.role, v.home()) {
        (Role::Field, _) => Ok(see_other("/app/my-week")),
        (_, Some(region)) => Ok(see_other(&format!("/app/region/{region}"))),
        (_, None) => {
            // An admin: every kabupaten/kota with teams.
            let mut codes: Vec<String> = crate::services::catalog::teams(&s.db)
                .await?
                .into_iter()
                .map(|t| t.kabupaten_code)
                .collect();
            codes.sort();
            codes.dedup();
            let names = crate::services::catalog::region_names(&s.db, &codes).await?;
            let regions: Vec<_> = codes
                .iter()
                .map(|c| minijinja::context! { code => c, name => names.get(c) })
                .collect();
            let mut ctx = super::base(&v, &s, None, "home");
            ctx = minijinja::context! { regions, ..ctx };
            super::ok("choose.html", ctx)
        }
    }
}

/// `/app/lang/{id|en}?next=…`: remember the language and go back.
fn switch_language(s: &AppState, code: &str, q: &crate::http::params::Query) -> Response {
    let next = safe_next(q.get("next"));
    let mut resp = see_other(&next);
    if code == "id" || code == "en" {
        set_cookie(&mut resp, s, LANG, code, 365 * 24 * 3600);
    }
    resp
}

pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let st = || with_state(state.clone());
    let login_get = get_page(
        state,
        warp::path!("app" / "login").map(|| ()),
        |s, r, (), q| Box::pin(login_form(s, r, q)),
    );
    let login_post = warp::path!("app" / "login")
        .and(warp::post())
        .and(req())
        .and(
            warp::ext::optional::<crate::http::server::ClientAddr>()
                .map(|c: Option<crate::http::server::ClientAddr>| c.map(|c| c.0)),
        )
        .and(warp::header::optional::<String>("x-forwarded-for"))
        .and(form())
        .and(st())
        .and_then(|r: Req, addr, xff, f, s: AppState| async move {
            {
                let (state, req) = (s.clone(), r.clone());
                page(&state, &req, false, sign_in(s, r, addr, xff, f).await).await
            }
        })
        .boxed();
    let logout = post_form(
        state,
        warp::path!("app" / "logout").map(|| ()),
        |s, r, (), f| Box::pin(sign_out(s, r, f)),
    );
    let front = get_page(state, warp::path!("app").map(|| ()), |s, r, (), _| {
        Box::pin(front(s, r))
    });
    let lang = warp::path!("app" / "lang" / String)
        .and(warp::get())
        .and(crate::http::params::query())
        .and(st())
        .map(|code: String, q, s: AppState| switch_language(&s, &code, &q))
        .boxed();
    vec![
        page_route("GET", "/app/login", login_get),
        page_route("POST", "/app/login", login_post),
        page_route("POST", "/app/logout", logout),
        page_route("GET", "/app", front),
        page_route("GET", "/app/lang/{code}", lang),
    ]
}
