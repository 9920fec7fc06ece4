use sea_orm::entity::prelude::*;

/// A place's answer to the notice of a planned visit (the newest per site and week counts).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "site_answers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub region_code: String,
    pub week: String,
    pub site_id: i64,
    pub plan_id: i64,
    /// `bisa` or `tidak_bisa`.
    pub answer: String,
    pub proposed_date: Option<Date>,
    /// `;`-separated days the site was planned for when it answered.
    pub planned_days: String,
    pub note: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
