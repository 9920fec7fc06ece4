//! Who is asking and what they may touch: roles and scopes, password hashing, session tokens and
//! the signed per-visit links of the weekly emails. Pure: the HTTP layer extracts a `Principal`,
//! the store persists hashes, and neither decides policy.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

#[cfg(test)]
mod tests;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    /// Plans the outreach weeks of one kabupaten/kota.
    Coordinator,
    /// A member of one field team: sees and logs only that team's visits.
    Field,
    /// Reviews logs and coverage of a kabupaten/kota or a whole province; otherwise read-only.
    Manager,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "admin" => Ok(Self::Admin),
            "coordinator" | "koordinator" => Ok(Self::Coordinator),
            "field" | "lapangan" => Ok(Self::Field),
            "manager" | "manajer" => Ok(Self::Manager),
            other => Err(format!(
                "peran tidak dikenal {other:?} / unknown role (admin, coordinator, field, manager)"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Coordinator => "coordinator",
            Self::Field => "field",
            Self::Manager => "manager",
        }
    }
}

/// The authenticated caller, built from the session on every request (never from the request).
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// Coordinator: a kabupaten/kota; manager: a kabupaten/kota or a province; field: the team's
    /// kabupaten/kota; admin: none.
    pub region: Option<String>,
    pub team_id: Option<i64>,
}

impl Principal {
    /// The audit trail's name for this caller.
    pub fn actor(&self) -> String {
        format!("user:{}:{}", self.user_id, self.username)
    }

    /// Whether a region (kabupaten/kota or finer, e.g. `35.09` or `35.09.01`) is within reach.
    pub fn covers_region(&self, code: &str) -> bool {
        match (&self.role, &self.region) {
            (Role::Admin, _) => true,
            (_, Some(scope)) => region_within(code, scope),
            (_, None) => false,
        }
    }

    /// A field member only reaches their own team; everyone else reaches teams of their regions.
    pub fn covers_team(&self, team_id: i64, team_region: &str) -> bool {
        match self.role {
            Role::Field => self.team_id == Some(team_id),
            _ => self.covers_region(team_region),
        }
    }

    pub fn is(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }
}

/// `35.09.01` lies within `35.09` and within `35`, not within `35.1`.
pub fn region_within(code: &str, scope: &str) -> bool {
    code == scope
        || (code.len() > scope.len()
            && code.starts_with(scope)
            && code.as_bytes()[scope.len()] == b'.')
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("{0}")]
    WeakPassword(String),
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

pub fn check_password_strength(password: &str) -> Result<(), AuthError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(AuthError::WeakPassword(format!(
            "kata sandi minimal {MIN_PASSWORD_CHARS} karakter / password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(AuthError::WeakPassword(format!(
            "kata sandi maksimal {MAX_PASSWORD_CHARS} karakter / password is longer than {MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random source works");
    buf
}

/// argon2id with the OWASP baseline (m = 19 MiB, t = 2, p = 1): `$argon2id$v=19$m=19456,t=2,p=1$…`.
/// CPU-heavy (tens of milliseconds): call it from a blocking thread.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC string. A malformed hash never matches.
pub fn verify_password(stored: &str, password: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Verified when the username is unknown, so that an unknown user costs the same time as a wrong
/// password and the timing does not tell which accounts exist.
pub static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_password(&URL_SAFE_NO_PAD.encode(random_bytes::<24>()))
        .expect("hashing a random password works")
});

/// A new session token: `fs_` + 32 random bytes in base64url. Only its hash is stored.
pub fn new_session_token() -> String {
    format!("fs_{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// SHA-256, hex: how tokens are stored and looked up, and the fingerprint of a request body.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// 18 random bytes in base64url (24 characters): the visit form's idempotency key, and the
/// one-time passwords `jemput user add|passwd` make up.
pub fn random_key() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<18>())
}

/// What a per-visit link grants: logging one visit of one team until `expires` (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkClaims {
    pub stop_id: i64,
    pub team_id: i64,
    pub expires: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Malformed, or the signature does not match: nothing is revealed.
    Invalid,
    /// Genuine but past its validity.
    Expired(LinkClaims),
}

type HmacSha256 = hmac::Hmac<Sha256>;

fn link_mac(secret: &str, payload: &str) -> HmacSha256 {
    purpose_mac(secret, b"jemput-visit-link-v1\n", payload)
}

/// The purpose goes into the MAC first, so that a token made for one kind of link (a notice's
/// answer) never opens another (a visit's report form), whatever its numbers.
fn purpose_mac(secret: &str, purpose: &[u8], payload: &str) -> HmacSha256 {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(purpose);
    mac.update(payload.as_bytes());
    mac
}

/// What a notice's answer link (`/n/{token}`) grants: answering for one site about one plan's
/// visits to it, until `expires`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeClaims {
    pub plan_id: i64,
    pub site_id: i64,
    pub expires: i64,
}

const NOTICE_PURPOSE: &[u8] = b"jemput-notice-answer-v1\n";

/// `{plan}.{site}.{expires}.{signature}`, signed apart from visit links.
pub fn sign_notice(secret: &str, claims: &NoticeClaims) -> String {
    let payload = format!("{}.{}.{}", claims.plan_id, claims.site_id, claims.expires);
    let tag = purpose_mac(secret, NOTICE_PURPOSE, &payload)
        .finalize()
        .into_bytes();
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The claims of a genuine notice link; `Err(None)` for a forged or malformed one,
/// `Err(Some(claims))` for a genuine one past its validity.
pub fn verify_notice(
    secret: &str,
    token: &str,
    now_unix: i64,
) -> Result<NoticeClaims, Option<NoticeClaims>> {
    let (payload, tag) = token.rsplit_once('.').ok_or(None)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| None)?;
    purpose_mac(secret, NOTICE_PURPOSE, payload)
        .verify_slice(&tag)
        .map_err(|_| None)?;
    let nums: Vec<i64> = payload
        .split('.')
        .map(|p| p.parse().map_err(|_| None))
        .collect::<Result<_, _>>()?;
    let [plan_id, site_id, expires] = nums[..] else {
        return Err(None);
    };
    let claims = NoticeClaims {
        plan_id,
        site_id,
        expires,
    };
    if now_unix > expires {
        return Err(Some(claims));
    }
    Ok(claims)
}

/// `{stop}.{team}.{expires}.{signature}` — short enough for an SMS or a cramped email line.
pub fn sign_link(secret: &str, claims: &LinkClaims) -> String {
    let payload = format!("{}.{}.{}", claims.stop_id, claims.team_id, claims.expires);
    let tag = link_mac(secret, &payload).finalize().into_bytes();
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
}

pub fn verify_link(secret: &str, token: &str, now_unix: i64) -> Result<LinkClaims, LinkError> {
    let (payload, tag) = token.rsplit_once('.').ok_or(LinkError::Invalid)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| LinkError::Invalid)?;
    // Constant-time comparison.
    link_mac(secret, payload)
        .verify_slice(&tag)
        .map_err(|_| LinkError::Invalid)?;
    let mut parts = payload.split('.');
    let mut next = || -> Result<i64, LinkError> {
        parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or(LinkError::Invalid)
    };
    let claims = LinkClaims {
        stop_id: next()?,
        team_id: next()?,
        expires: next()?,
    };
    if now_unix > claims.expires {
        return Err(LinkError::Expired(claims));
    }
    Ok(claims)
}

fn csrf_mac(secret: &str, binding: &str) -> HmacSha256 {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(b"jemput-console-csrf-v1\n");
    mac.update(binding.as_bytes());
    mac
}

/// The console's CSRF token for a form: an HMAC of what the browser's cookie holds (the session
/// token, or before sign-in a random nonce). A page of another site can neither read the cookie
/// nor compute the token, so its forged POST carries none that matches.
pub fn csrf_token(secret: &str, binding: &str) -> String {
    URL_SAFE_NO_PAD.encode(csrf_mac(secret, binding).finalize().into_bytes())
}

/// Whether `given` is the token for `binding` (compared in constant time).
pub fn csrf_matches(secret: &str, binding: &str, given: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(given)
        .is_ok_and(|tag| csrf_mac(secret, binding).verify_slice(&tag).is_ok())
}
