//! Users, sessions and the audit trail.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::entity::{audit_log, sessions, teams, users};
use super::{StoreError, begin_write};

/// Append one entry to the audit trail (inside the caller's transaction, so the entry and the
/// change it records commit together). The entry's region, which scopes who may read it, is the
/// detail's `"region"`.
pub async fn audit<C: ConnectionTrait>(
    conn: &C,
    actor: &str,
    action: &str,
    object_type: &str,
    object_id: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        at: Set(Utc::now()),
        actor: Set(actor.to_string()),
        action: Set(action.to_string()),
        object_type: Set(object_type.to_string()),
        object_id: Set(object_id.to_string()),
        region_code: Set(detail
            .get("region")
            .and_then(|r| r.as_str())
            .map(str::to_string)),
        detail: Set(detail),
        ..Default::default()
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// One entry of the audit trail, its detail parsed back into JSON.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub region_code: Option<String>,
    pub detail: serde_json::Value,
}

impl From<audit_log::Model> for AuditEntry {
    fn from(a: audit_log::Model) -> Self {
        AuditEntry {
            // Written by `audit` from a `serde_json::Value`, so it parses; `null` if it does not.
            detail: a.detail,
            id: a.id,
            at: a.at,
            actor: a.actor,
            action: a.action,
            object_type: a.object_type,
            object_id: a.object_id,
            region_code: a.region_code,
        }
    }
}

/// A user account.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    /// `admin`, `coordinator`, `field` or `manager`.
    pub role: String,
    pub region_code: Option<String>,
    pub team_id: Option<i64>,
    pub language: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
}

impl From<users::Model> for User {
    fn from(u: users::Model) -> Self {
        let users::Model {
            id,
            username,
            display_name,
            password_hash,
            role,
            region_code,
            team_id,
            language,
            active,
            created_at,
            password_changed_at,
        } = u;
        User {
            id,
            username,
            display_name,
            password_hash,
            role,
            region_code,
            team_id,
            language,
            active,
            created_at,
            password_changed_at,
        }
    }
}

/// The newest entries; a scoped caller sees only those of regions inside their scope.
pub async fn list_audit(
    db: &DatabaseConnection,
    scope: Option<&crate::domain::RegionCode>,
    limit: u64,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut q = audit_log::Entity::find();
    if let Some(r) = scope {
        q = q.filter(super::within(audit_log::Column::RegionCode, r));
    }
    let rows = q
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub region_code: Option<String>,
    pub team_id: Option<i64>,
    pub language: String,
}

pub enum UserAdd {
    Created(User),
    UsernameTaken,
    NoSuchTeam,
}

pub async fn add_user(
    db: &DatabaseConnection,
    new: NewUser,
    actor: &str,
) -> Result<UserAdd, StoreError> {
    let txn = begin_write(db).await?;
    if find_user(&txn, &new.username).await?.is_some() {
        return Ok(UserAdd::UsernameTaken);
    }
    let mut region = new.region_code.clone();
    if let Some(team) = new.team_id {
        match teams::Entity::find_by_id(team).one(&txn).await? {
            // A field member's reach is their team's kabupaten/kota.
            Some(t) => region = Some(t.kabupaten_code),
            None => return Ok(UserAdd::NoSuchTeam),
        }
    }
    let now = Utc::now();
    let user = users::Entity::insert(users::ActiveModel {
        username: Set(new.username.clone()),
        display_name: Set(new.display_name),
        password_hash: Set(new.password_hash),
        role: Set(new.role.clone()),
        region_code: Set(region.clone()),
        team_id: Set(new.team_id),
        language: Set(new.language),
        active: Set(true),
        created_at: Set(now),
        password_changed_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    audit(
        &txn,
        actor,
        "user.add",
        "user",
        &user.id.to_string(),
        serde_json::json!({
            "username": new.username, "role": new.role, "region": region, "team_id": new.team_id,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(UserAdd::Created(user.into()))
}

pub async fn find_user<C: ConnectionTrait>(
    conn: &C,
    username: &str,
) -> Result<Option<User>, StoreError> {
    Ok(users::Entity::find()
        .filter(users::Column::Username.eq(username))
        .one(conn)
        .await?
        .map(User::from))
}

pub async fn user_by_id(db: &DatabaseConnection, id: i64) -> Result<Option<User>, StoreError> {
    Ok(users::Entity::find_by_id(id).one(db).await?.map(User::from))
}

pub async fn list_users(db: &DatabaseConnection) -> Result<Vec<User>, StoreError> {
    let rows = users::Entity::find()
        .order_by_asc(users::Column::Username)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(User::from).collect())
}

/// Replace a password hash and end every session of that user; `false` if there is no user.
pub async fn set_password(
    db: &DatabaseConnection,
    user_id: i64,
    password_hash: &str,
    actor: &str,
) -> Result<bool, StoreError> {
    let txn = begin_write(db).await?;
    let now = Utc::now();
    let updated = users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(users::Column::PasswordChangedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user_id))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(false);
    }
    sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(now))
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    audit(
        &txn,
        actor,
        "user.password",
        "user",
        &user_id.to_string(),
        serde_json::json!({ "sessions_revoked": true }),
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

pub async fn create_session(
    db: &DatabaseConnection,
    user_id: i64,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = Utc::now();
    sessions::Entity::insert(sessions::ActiveModel {
        token_hash: Set(token_hash.to_string()),
        user_id: Set(user_id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        last_seen_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The (active) user behind a live session's token hash.
pub async fn session_user(
    db: &DatabaseConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, StoreError> {
    // One round trip: every authenticated request pays it.
    let Some((_, Some(user))) = sessions::Entity::find()
        .find_also_related(users::Entity)
        .filter(sessions::Column::TokenHash.eq(token_hash))
        .filter(sessions::Column::RevokedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if !user.active {
        return Ok(None);
    }
    Ok(Some(user.into()))
}

/// End one session (logout). Idempotent.
pub async fn revoke_session(db: &DatabaseConnection, token_hash: &str) -> Result<(), StoreError> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(sessions::Column::TokenHash.eq(token_hash))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
