use sea_orm::entity::prelude::*;

/// One email to one recipient. Written in the transaction that publishes a plan (or records a
/// weekly reminder); the worker claims it with a lease, sends it and records the result.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "email_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub dedupe_key: String,
    #[sea_orm(unique)]
    pub message_id: String,
    /// `schedule`, `change` or `reminder`.
    pub kind: String,
    pub plan_id: Option<i64>,
    pub team_id: Option<i64>,
    pub region_code: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body_text: String,
    #[sea_orm(column_type = "Text")]
    pub body_html: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub ics: Option<String>,
    /// `pending`, `sending`, `sent`, `failed` or `dead`.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub smtp_response: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// The site a notice is about (null for a team's or a coordinator's message).
    pub site_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
