//! Accounts and sessions: adding users and setting passwords (`jemput user`), signing in and out
//! and changing one's password (`/api/v1/auth/…`), who a bearer token belongs to, and the audit
//! trail. Passwords are hashed off the async threads (argon2id is deliberately slow).

use chrono::{DateTime, Utc};

use crate::auth::{self, Principal, Role};
use crate::domain::RegionCode;
use crate::store::accounts::{self as store, NewUser, UserAdd};
use crate::store::{Db, StoreError};

pub use crate::store::accounts::{AuditEntry, User};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Input a person must correct; the text names the field.
    #[error("{0}")]
    Invalid(String),
    #[error("--username: {0} sudah ada / already exists")]
    UsernameTaken(String),
    #[error("--username: {0} tidak ditemukan / not found")]
    NoSuchUser(String),
    #[error("--team: tim tidak ditemukan / no such team")]
    NoSuchTeam,
    #[error("Kata sandi lama salah / wrong current password")]
    WrongPassword,
    /// The new password is too weak; the text says why.
    #[error("{0}")]
    WeakPassword(String),
    #[error("password hashing: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The principal a user acts as (`None` for a role this build does not know).
pub fn principal_of(user: &User) -> Option<Principal> {
    Some(Principal {
        user_id: user.id,
        username: user.username.clone(),
        role: Role::parse(&user.role).ok()?,
        region: user.region_code.clone(),
        team_id: user.team_id,
    })
}

/// Who a bearer token belongs to, if its session is live and its user active.
pub async fn principal_for_token(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Principal>, StoreError> {
    let hash = auth::sha256_hex(token.as_bytes());
    Ok(store::session_user(db, &hash, now)
        .await?
        .as_ref()
        .and_then(principal_of))
}

async fn hash(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| AccountError::Hashing(e.to_string()))?
        .map_err(|e| AccountError::Hashing(e.to_string()))
}

async fn verify(hash: String, password: String) -> Result<bool, AccountError> {
    tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password))
        .await
        .map_err(|e| AccountError::Hashing(e.to_string()))
}

/// The active user whose password this is, or `None`. An unknown user costs one hash
/// verification too, so that the time taken does not reveal which accounts exist.
pub async fn check_credentials(
    db: &Db,
    username: &str,
    password: String,
) -> Result<Option<User>, AccountError> {
    let user = store::find_user(db, username.trim()).await?;
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| auth::DUMMY_HASH.clone());
    let ok = verify(stored, password).await?;
    Ok(user.filter(|u| ok && u.active))
}

/// A new session: the token (shown once) and when it ends.
pub async fn open_session(db: &Db, user: &User, ends: DateTime<Utc>) -> Result<String, StoreError> {
    let token = auth::new_session_token();
    store::create_session(db, user.id, &auth::sha256_hex(token.as_bytes()), ends).await?;
    Ok(token)
}

/// End one session (logout). Idempotent.
pub async fn end_session(db: &Db, token: &str) -> Result<(), StoreError> {
    store::revoke_session(db, &auth::sha256_hex(token.as_bytes())).await
}

pub async fn user(db: &Db, id: i64) -> Result<Option<User>, StoreError> {
    store::user_by_id(db, id).await
}

pub async fn users(db: &Db) -> Result<Vec<User>, StoreError> {
    store::list_users(db).await
}

/// Change one's own password: the current one must be right and the new one strong enough.
/// Every session of the user ends.
pub async fn change_password(
    db: &Db,
    user: &User,
    current: String,
    new: String,
    actor: &str,
) -> Result<(), AccountError> {
    if !verify(user.password_hash.clone(), current).await? {
        return Err(AccountError::WrongPassword);
    }
    auth::check_password_strength(&new).map_err(|e| AccountError::WeakPassword(e.to_string()))?;
    store::set_password(db, user.id, &hash(new).await?, actor).await?;
    Ok(())
}

/// Set a user's password by name (an operator's reset); every session of the user ends.
pub async fn reset_password(
    db: &Db,
    username: &str,
    password: String,
    actor: &str,
) -> Result<User, AccountError> {
    let Some(user) = store::find_user(db, username.trim()).await? else {
        return Err(AccountError::NoSuchUser(username.to_string()));
    };
    store::set_password(db, user.id, &hash(password).await?, actor).await?;
    Ok(user)
}

/// A user to add, as an operator types it.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub role: String,
    /// Coordinator: kabupaten/kota; manager: kabupaten/kota or province.
    pub region: Option<String>,
    /// Field member: the team.
    pub team: Option<i64>,
    pub name: Option<String>,
    /// `id` or `en`.
    pub language: String,
    pub password: String,
}

/// Add a user after checking that the role, region and team fit together.
pub async fn add_user(db: &Db, new: NewAccount, actor: &str) -> Result<User, AccountError> {
    let invalid = |m: &str| AccountError::Invalid(m.to_string());
    let username = new.username.trim().to_string();
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        return Err(invalid(
            "--username: 1..64 huruf, angka, titik, garis, @ / letters, digits, . _ - @",
        ));
    }
    let role = Role::parse(&new.role).map_err(AccountError::Invalid)?;
    if !matches!(new.language.as_str(), "id" | "en") {
        return Err(invalid("--language: id atau en"));
    }
    let region = new
        .region
        .map(|r| {
            RegionCode::parse(&r)
                .map(|c| c.to_string())
                .map_err(|e| AccountError::Invalid(format!("--region: {e}")))
        })
        .transpose()?;
    match (role, &region, new.team) {
        (Role::Coordinator | Role::Manager, None, _) => {
            return Err(AccountError::Invalid(format!(
                "--region wajib untuk {} / --region is required",
                role.as_str()
            )));
        }
        (Role::Field, _, None) => {
            return Err(invalid("--team wajib untuk field / --team is required"));
        }
        (Role::Admin, Some(_), _) | (Role::Admin, _, Some(_)) => {
            return Err(invalid(
                "admin tidak memakai --region/--team / admin takes neither",
            ));
        }
        (Role::Coordinator | Role::Manager, _, Some(_)) => {
            return Err(invalid(
                "--team hanya untuk field / --team is for field members",
            ));
        }
        _ => {}
    }
    let row = NewUser {
        display_name: new.name.unwrap_or_else(|| username.clone()),
        username: username.clone(),
        password_hash: hash(new.password).await?,
        role: role.as_str().to_string(),
        region_code: if role == Role::Field { None } else { region },
        team_id: new.team,
        language: new.language,
    };
    match store::add_user(db, row, actor).await? {
        UserAdd::Created(u) => Ok(u),
        UserAdd::UsernameTaken => Err(AccountError::UsernameTaken(username)),
        UserAdd::NoSuchTeam => Err(AccountError::NoSuchTeam),
    }
}

/// The newest audit entries the caller's scope reaches (`None` = all).
pub async fn audit_trail(
    db: &Db,
    scope: Option<&RegionCode>,
    limit: u64,
) -> Result<Vec<AuditEntry>, StoreError> {
    store::list_audit(db, scope, limit).await
}

/// An account with a fresh random password, made if missing or given the new password if it
/// exists (every session of it ends): the demo's sign-ins. Returns the password, shown once.
pub async fn ensure_account(db: &Db, new: NewAccount, actor: &str) -> Result<String, AccountError> {
    let password = auth::random_key();
    match store::find_user(db, new.username.trim()).await? {
        Some(user) => {
            store::set_password(db, user.id, &hash(password.clone()).await?, actor).await?;
        }
        None => {
            add_user(
                db,
                NewAccount {
                    password: password.clone(),
                    ..new
                },
                actor,
            )
            .await?;
        }
    }
    Ok(password)
}
