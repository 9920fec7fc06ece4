use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub role: String,
    pub region_code: Option<String>,
    pub team_id: Option<i64>,
    pub language: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub password_changed_at: DateTimeUtc,
}

/// Written by hand so that a user row never prints its password hash in a log.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("users::Model")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("region_code", &self.region_code)
            .field("team_id", &self.team_id)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
