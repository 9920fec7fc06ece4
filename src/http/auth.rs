//! Authentication for the HTTP layer: bearer sessions, login with rate limits, logout and
//! password change. Handlers call `require` with the roles a route admits; policy on scopes
//! (which region, which team) stays in the handlers, with `Principal`'s checks.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use serde::Deserialize;
use warp::Reply;
use warp::reply::Response;

use super::params::{Route, auth_header, json_body, reply, route, with_state};
use super::schemas::{BadRequest, Internal, Invalid, TooManyRequests, Unauthorized as NoSession};
use super::{ApiError, AppState};
use crate::auth::{Principal, Role};
use crate::config::{Secret, Settings};
use crate::services::accounts::{self, AccountError, User};
use warp::Filter;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// Failed logins per key: a governor bucket that only failures draw from, and the moment the key
/// may try again once a failure emptied it.
struct Failures<K: std::hash::Hash + Eq + Clone> {
    bucket: Keyed<K>,
    blocked: std::sync::Mutex<std::collections::HashMap<K, std::time::Instant>>,
    period: Duration,
}

impl<K: std::hash::Hash + Eq + Clone> Failures<K> {
    fn new(quota: Quota, period: Duration) -> Self {
        Self {
            bucket: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            blocked: Default::default(),
            period,
        }
    }

    /// Seconds to wait, when the key is blocked now.
    fn blocked(&self, key: &K) -> Option<u64> {
        let now = std::time::Instant::now();
        let mut blocked = self.blocked.lock().expect("never poisoned");
        match blocked.get(key) {
            Some(until) if *until > now => Some(wait_s(*until - now)),
            Some(_) => {
                blocked.remove(key);
                None
            }
            None => None,
        }
    }

    /// Count one failure; seconds to wait when it used the key's last allowance.
    fn fail(&self, key: &K) -> Option<u64> {
        let wait: Duration = match self.bucket.check_key(key) {
            Ok(state) if state.remaining_burst_capacity() > 0 => return None,
            // The bucket is empty now: the next cell comes one period later.
            Ok(_) => self.period,
            Err(not_until) => not_until.wait_time_from(DefaultClock::default().now()),
        };
        let now = std::time::Instant::now();
        let mut blocked = self.blocked.lock().expect("never poisoned");
        if blocked.len() > 10_000 {
            blocked.retain(|_, t| *t > now);
            self.bucket.retain_recent();
        }
        blocked.insert(key.clone(), now + wait);
        Some(wait_s(wait))
    }
}

fn wait_s(d: Duration) -> u64 {
    d.as_secs_f64().ceil().max(1.0) as u64
}

/// What authentication needs at run time.
pub struct AuthState {
    pub session_ttl: chrono::Duration,
    pub link_secret: Secret,
    pub flag_rules: crate::fieldlog::FlagRules,
    pub minutes_per_person: std::collections::BTreeMap<String, f64>,
    pub idempotency_ttl: chrono::Duration,
    by_ip: Failures<IpAddr>,
    by_username: Failures<String>,
    trusted_proxies: Vec<ipnet::IpNet>,
}

impl AuthState {
    pub fn from_settings(s: &Settings) -> Self {
        let period = Duration::from_millis(s.auth.login_replenish_ms.max(1));
        let quota = Quota::with_period(period)
            .expect("a positive period")
            .allow_burst(NonZeroU32::new(s.auth.login_burst.max(1)).expect("positive"));
        Self {
            session_ttl: chrono::Duration::hours(s.auth.session_ttl_hours),
            link_secret: s.auth.link_secret.clone(),
            flag_rules: crate::fieldlog::FlagRules {
                far_check_in_m: s.visit_logs.far_check_in_m,
                late_hours: s.visit_logs.late_hours,
                capacity_tolerance: s.visit_logs.capacity_tolerance,
            },
            minutes_per_person: s.planner.minutes_per_person.clone(),
            idempotency_ttl: chrono::Duration::hours(s.visit_logs.idempotency_ttl_hours),
            by_ip: Failures::new(quota, period),
            by_username: Failures::new(quota, period),
            trusted_proxies: s.server.trusted_proxies.clone(),
        }
    }

    /// The client: the socket's peer, or — when the peer is a trusted proxy — the right-most
    /// `X-Forwarded-For` address that is not itself a trusted proxy.
    pub fn client_ip(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        let trusted = |ip: &IpAddr| self.trusted_proxies.iter().any(|n| n.contains(ip));
        let peer = peer?;
        if !trusted(&peer) {
            return Some(peer);
        }
        let from_header = forwarded_for.and_then(|h| {
            h.rsplit(',')
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .find(|ip| !trusted(ip))
        });
        Some(from_header.unwrap_or(peer))
    }
}

fn unauthorized() -> ApiError {
    ApiError::Unauthorized("Perlu masuk (login) / authentication required".into())
}

fn forbidden() -> ApiError {
    ApiError::Forbidden("Peran Anda tidak diizinkan / your role may not do this".into())
}

fn bearer(header: Option<&str>) -> Option<&str> {
    let h = header?.trim();
    let (scheme, token) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| t.starts_with("fs_") && t.len() < 100)
}

/// The caller, if their token is live and their role is one of `roles` (401, else 403).
pub async fn require(
    s: &AppState,
    header: Option<String>,
    roles: &[Role],
) -> Result<Principal, ApiError> {
    require_token(s, bearer(header.as_deref()), roles).await
}

/// The holder of a session token (from the header, or the console's cookie), if it is live and
/// their role is one of `roles` (401, else 403).
pub async fn require_token(
    s: &AppState,
    token: Option<&str>,
    roles: &[Role],
) -> Result<Principal, ApiError> {
    let token = token.ok_or_else(unauthorized)?;
    let p = accounts::principal_for_token(&s.db, token, chrono::Utc::now())
        .await?
        .ok_or_else(unauthorized)?;
    if !p.is(roles) {
        return Err(forbidden());
    }
    Ok(p)
}

/// The caller's reach as a region filter (`None`: everything, for an admin).
pub fn scope_of(p: &Principal) -> Result<Option<crate::domain::RegionCode>, ApiError> {
    match (&p.role, &p.region) {
        (Role::Admin, _) => Ok(None),
        (_, Some(r)) => crate::domain::RegionCode::parse(r)
            .map(Some)
            .map_err(|e| ApiError::Internal(format!("user {} has a bad region: {e}", p.user_id))),
        // A non-admin account without a region reaches nothing.
        (_, None) => Err(ApiError::Forbidden(
            "Akun tanpa wilayah / account has no region".into(),
        )),
    }
}

pub const ANY: &[Role] = &[Role::Admin, Role::Coordinator, Role::Field, Role::Manager];
pub const STAFF: &[Role] = &[Role::Admin, Role::Coordinator, Role::Manager];
pub const PLANNERS: &[Role] = &[Role::Admin, Role::Coordinator];
pub const REVIEWERS: &[Role] = &[Role::Admin, Role::Manager];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(min_length = 1, max_length = 64)]
    username: String,
    #[schema(min_length = 1, max_length = 256, format = Password)]
    password: String,
}

/// Never `Debug`-printed with its password.
impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A user as the API shows them (never the password hash).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = User)]
pub struct UserReply {
    id: i64,
    username: String,
    display_name: String,
    /// `admin`, `coordinator`, `manager` or `field`.
    #[schema(example = "coordinator")]
    role: String,
    /// The region the user works in (none for an admin).
    region: Option<String>,
    /// A field member's team.
    team_id: Option<i64>,
    /// `id` or `en`.
    language: String,
}

impl From<&User> for UserReply {
    fn from(u: &User) -> Self {
        UserReply {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role.clone(),
            region: u.region_code.clone(),
            team_id: u.team_id,
            language: u.language.clone(),
        }
    }
}

/// A new session: the token (shown once) and when it ends.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = Session)]
pub struct SessionReply {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    expires_at: chrono::DateTime<chrono::Utc>,
    user: UserReply,
}

/// One session for a user: the token (shown once) and when it ends.
async fn new_session(s: &AppState, user: &User) -> Result<SessionReply, ApiError> {
    let expires_at = chrono::Utc::now() + s.auth.session_ttl;
    let token = accounts::open_session(&s.db, user, expires_at).await?;
    Ok(SessionReply {
        token,
        expires_at,
        user: user.into(),
    })
}

/// POST /api/v1/auth/login
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", operation_id = "login",
    security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: a new session.", body = SessionReply),
        (status = 400, response = BadRequest),
        (status = 401, response = NoSession),
        (status = 429, response = TooManyRequests),
        (status = 500, response = Internal),
    ))]
pub async fn login(
    s: AppState,
    remote: Option<SocketAddr>,
    forwarded_for: Option<String>,
    body: LoginRequest,
) -> Result<Response, ApiError> {
    let user = authenticate(&s, remote, forwarded_for, &body.username, body.password).await?;
    Ok(warp::reply::json(&new_session(&s, &user).await?).into_response())
}

/// The user whose password this is, under the login rate limits (the API's login and the
/// console's sign-in count failures in the same buckets).
pub(super) async fn authenticate(
    s: &AppState,
    remote: Option<SocketAddr>,
    forwarded_for: Option<String>,
    username: &str,
    password: String,
) -> Result<User, ApiError> {
    // Only failures count. A client that failed too often waits; a username that failed too often
    // (from anywhere) refuses further wrong passwords, but its owner's correct password from a
    // client that is not itself limited still gets in, so nobody can lock a known user out.
    let ip = s
        .auth
        .client_ip(remote.map(|a| a.ip()), forwarded_for.as_deref());
    if let Some(wait) = ip.and_then(|ip| s.auth.by_ip.blocked(&ip)) {
        return Err(ApiError::TooMany(wait));
    }
    let name = username.trim().to_lowercase();
    let user = accounts::check_credentials(&s.db, username, password).await?;
    let user = match user {
        Some(u) => u,
        None => {
            tracing::info!(username = %username.trim(), "login refused");
            // The failure is counted; it is answered 429 only when the name was already over its
            // limit (the attempt that reaches a limit is still told the password was wrong).
            let name_blocked = s.auth.by_username.blocked(&name);
            if let Some(ip) = ip {
                s.auth.by_ip.fail(&ip);
            }
            if name_blocked.is_none() {
                s.auth.by_username.fail(&name);
            }
            if let Some(wait) = name_blocked {
                return Err(ApiError::TooMany(wait));
            }
            return Err(ApiError::Unauthorized(
                "Nama pengguna atau kata sandi salah / wrong username or password".into(),
            ));
        }
    };
    tracing::info!(user = user.id, "login");
    Ok(user)
}

/// POST /api/v1/auth/logout — ends this session (204).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", operation_id = "logout",
    security(("bearerAuth" = [])),
    responses(
        (status = 204, description = "The session ended."),
        (status = 401, response = NoSession),
        (status = 500, response = Internal),
    ))]
pub async fn logout(s: AppState, header: Option<String>) -> Result<Response, ApiError> {
    require(&s, header.clone(), ANY).await?;
    let token = bearer(header.as_deref()).ok_or_else(unauthorized)?;
    accounts::end_session(&s.db, token).await?;
    Ok(warp::reply::with_status(warp::reply(), warp::http::StatusCode::NO_CONTENT).into_response())
}

/// GET /api/v1/auth/me
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", operation_id = "me",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The signed-in user.", body = UserReply),
        (status = 401, response = NoSession),
        (status = 500, response = Internal),
    ))]
pub async fn me(s: AppState, header: Option<String>) -> Result<Response, ApiError> {
    let p = require(&s, header, ANY).await?;
    let user = accounts::user(&s.db, p.user_id)
        .await?
        .ok_or_else(unauthorized)?;
    Ok(warp::reply::json(&UserReply::from(&user)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    #[schema(min_length = 1, max_length = 256, format = Password)]
    current_password: String,
    /// At least 10 characters, not one of the common passwords.
    #[schema(min_length = 10, max_length = 256, format = Password)]
    new_password: String,
}

impl std::fmt::Debug for PasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordRequest { .. }")
    }
}

/// POST /api/v1/auth/password — every older session ends; the answer carries a new one.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth",
    operation_id = "changePassword",
    security(("bearerAuth" = [])),
    request_body = PasswordRequest,
    responses(
        (status = 200, description = "Changed: every older session ended; a new one.",
            body = SessionReply),
        (status = 400, response = BadRequest),
        (status = 401, response = NoSession),
        (status = 422, response = Invalid),
        (status = 500, response = Internal),
    ))]
pub async fn change_password(
    s: AppState,
    header: Option<String>,
    body: PasswordRequest,
) -> Result<Response, ApiError> {
    let p = require(&s, header, ANY).await?;
    let user = accounts::user(&s.db, p.user_id)
        .await?
        .ok_or_else(unauthorized)?;
    accounts::change_password(
        &s.db,
        &user,
        body.current_password,
        body.new_password,
        &p.actor(),
    )
    .await?;
    Ok(warp::reply::json(&new_session(&s, &user).await?).into_response())
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::WrongPassword => ApiError::Unauthorized(e.to_string()),
            AccountError::WeakPassword(m) => ApiError::Invalid {
                message: m.clone(),
                errors: vec![crate::fieldlog::FieldError {
                    field: "new_password".into(),
                    message: m,
                }],
            },
            AccountError::Store(e) => e.into(),
            AccountError::Hashing(m) => ApiError::Internal(m),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

/// /api/v1/auth/….
pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let login = warp::path!("api" / "v1" / "auth" / "login")
        .and(warp::post())
        .and(warp::body::content_length_limit(16 * 1024))
        .and(
            warp::ext::optional::<super::server::ClientAddr>()
                .map(|c: Option<super::server::ClientAddr>| c.map(|c| c.0)),
        )
        .and(warp::header::optional::<String>("x-forwarded-for"))
        .and(json_body::<LoginRequest>())
        .and(with_state(state.clone()))
        .and_then(
            |addr, xff, body, s: AppState| async move { reply(login(s, addr, xff, body).await) },
        )
        .boxed();
    let logout = warp::path!("api" / "v1" / "auth" / "logout")
        .and(warp::post())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|h, s: AppState| async move { reply(logout(s, h).await) })
        .boxed();
    let me = warp::path!("api" / "v1" / "auth" / "me")
        .and(warp::get())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|h, s: AppState| async move { reply(me(s, h).await) })
        .boxed();
    let password = warp::path!("api" / "v1" / "auth" / "password")
        .and(warp::post())
        .and(warp::body::content_length_limit(16 * 1024))
        .and(auth_header())
        .and(json_body::<PasswordRequest>())
        .and(with_state(state.clone()))
        .and_then(|h, body, s: AppState| async move { reply(change_password(s, h, body).await) })
        .boxed();
    vec![
        route("POST", "/api/v1/auth/login", login),
        route("POST", "/api/v1/auth/logout", logout),
        route("GET", "/api/v1/auth/me", me),
        route("POST", "/api/v1/auth/password", password),
    ]
}
