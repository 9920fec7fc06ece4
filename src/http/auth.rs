//! Authentication for the HTTP layer: bearer sessions, login with rate limits, logout and
//! password change. Handlers call `require` with the roles a route admits; policy on scopes
//! (which region, which team) stays in the handlers, with `Principal`'s checks.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use serde::Deserialize;
use warp::Reply;
use warp::reply::Response;

use super::{ApiError, AppState};
use crate::auth::{self, Principal, Role};
use crate::config::{Secret, Settings};
use crate::store::accounts;
use crate::store::entity::users;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// What authentication needs at run time.
pub struct AuthState {
    pub session_ttl: chrono::Duration,
    pub link_secret: Secret,
    pub flag_rules: crate::fieldlog::FlagRules,
    pub minutes_per_person: std::collections::BTreeMap<String, f64>,
    pub idempotency_ttl: chrono::Duration,
    by_ip: Keyed<IpAddr>,
    by_username: Keyed<String>,
}

impl AuthState {
    pub fn from_settings(s: &Settings) -> Self {
        let quota = Quota::with_period(Duration::from_millis(s.auth.login_replenish_ms.max(1)))
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
            by_ip: RateLimiter::keyed(quota),
            by_username: RateLimiter::keyed(quota),
        }
    }

    /// `Err(seconds to wait)` when this address or this username tried too often.
    fn admit(&self, ip: Option<IpAddr>, username: &str) -> Result<(), u64> {
        let now = DefaultClock::default().now();
        let wait = |d: Duration| d.as_secs_f64().ceil().max(1.0) as u64;
        if let Some(ip) = ip
            && let Err(not_until) = self.by_ip.check_key(&ip)
        {
            return Err(wait(not_until.wait_time_from(now)));
        }
        let name = username.trim().to_lowercase();
        if let Err(not_until) = self.by_username.check_key(&name) {
            return Err(wait(not_until.wait_time_from(now)));
        }
        // Keys that are full again carry no state worth keeping.
        if self.by_username.len() > 10_000 {
            self.by_username.retain_recent();
        }
        if self.by_ip.len() > 10_000 {
            self.by_ip.retain_recent();
        }
        Ok(())
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

pub fn principal_of(user: &users::Model) -> Option<Principal> {
    Some(Principal {
        user_id: user.id,
        username: user.username.clone(),
        role: Role::parse(&user.role).ok()?,
        region: user.region_code.clone(),
        team_id: user.team_id,
    })
}

/// The caller, if their token is live and their role is one of `roles` (401, else 403).
pub async fn require(
    s: &AppState,
    header: Option<String>,
    roles: &[Role],
) -> Result<Principal, ApiError> {
    let token = bearer(header.as_deref()).ok_or_else(unauthorized)?;
    let hash = auth::sha256_hex(token.as_bytes());
    let (_, user) = accounts::session_user(&s.db, &hash, chrono::Utc::now())
        .await?
        .ok_or_else(unauthorized)?;
    let p = principal_of(&user).ok_or_else(unauthorized)?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    username: String,
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

fn user_json(u: &users::Model) -> serde_json::Value {
    serde_json::json!({
        "id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
        "region": u.region_code, "team_id": u.team_id, "language": u.language,
    })
}

async fn verify_blocking(hash: String, password: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password))
        .await
        .map_err(|e| ApiError::Internal(format!("password check task: {e}")))
}

/// One session for a user: the token (shown once) and when it ends.
async fn new_session(s: &AppState, user: &users::Model) -> Result<serde_json::Value, ApiError> {
    let token = auth::new_session_token();
    let expires_at = chrono::Utc::now() + s.auth.session_ttl;
    accounts::create_session(
        &s.db,
        user.id,
        &auth::sha256_hex(token.as_bytes()),
        expires_at,
    )
    .await?;
    Ok(serde_json::json!({ "token": token, "expires_at": expires_at, "user": user_json(user) }))
}

/// POST /api/v1/auth/login
pub async fn login(
    s: AppState,
    remote: Option<SocketAddr>,
    body: LoginRequest,
) -> Result<Response, ApiError> {
    s.auth
        .admit(remote.map(|a| a.ip()), &body.username)
        .map_err(ApiError::TooMany)?;
    let user = accounts::find_user(&s.db, body.username.trim()).await?;
    // An unknown user costs one hash verification too, so timing does not reveal accounts.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| auth::DUMMY_HASH.clone());
    let ok = verify_blocking(hash, body.password).await?;
    let user = match user {
        Some(u) if ok && u.active => u,
        _ => {
            tracing::info!(username = %body.username.trim(), "login refused");
            return Err(ApiError::Unauthorized(
                "Nama pengguna atau kata sandi salah / wrong username or password".into(),
            ));
        }
    };
    tracing::info!(user = user.id, "login");
    Ok(warp::reply::json(&new_session(&s, &user).await?).into_response())
}

/// POST /api/v1/auth/logout — ends this session (204).
pub async fn logout(s: AppState, header: Option<String>) -> Result<Response, ApiError> {
    require(&s, header.clone(), ANY).await?;
    let token = bearer(header.as_deref()).ok_or_else(unauthorized)?;
    accounts::revoke_session(&s.db, &auth::sha256_hex(token.as_bytes())).await?;
    Ok(warp::reply::with_status(warp::reply(), warp::http::StatusCode::NO_CONTENT).into_response())
}

/// GET /api/v1/auth/me
pub async fn me(s: AppState, header: Option<String>) -> Result<Response, ApiError> {
    let p = require(&s, header, ANY).await?;
    let user = accounts::user_by_id(&s.db, p.user_id)
        .await?
        .ok_or_else(unauthorized)?;
    Ok(warp::reply::json(&user_json(&user)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    current_password: String,
    new_password: String,
}

impl std::fmt::Debug for PasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordRequest { .. }")
    }
}

/// POST /api/v1/auth/password — every older session ends; the answer carries a new one.
pub async fn change_password(
    s: AppState,
    header: Option<String>,
    body: PasswordRequest,
) -> Result<Response, ApiError> {
    let p = require(&s, header, ANY).await?;
    let user = accounts::user_by_id(&s.db, p.user_id)
        .await?
        .ok_or_else(unauthorized)?;
    if !verify_blocking(user.password_hash.clone(), body.current_password).await? {
        return Err(ApiError::Unauthorized(
            "Kata sandi lama salah / wrong current password".into(),
        ));
    }
    auth::check_password_strength(&body.new_password).map_err(|e| ApiError::Invalid {
        message: e.to_string(),
        errors: vec![crate::fieldlog::FieldError {
            field: "new_password".into(),
            message: e.to_string(),
        }],
    })?;
    let new = body.new_password;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&new))
        .await
        .map_err(|e| ApiError::Internal(format!("hash task: {e}")))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    accounts::set_password(&s.db, user.id, &hash, &p.actor()).await?;
    Ok(warp::reply::json(&new_session(&s, &user).await?).into_response())
}
