use sea_orm::entity::prelude::*;

/// The weekly trigger ran for this region and (next) week; unique per region-week so it acts once.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "weekly_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub region_code: String,
    pub week: String,
    /// `published`, `already_published` or `reminded`.
    pub action: String,
    pub plan_id: Option<i64>,
    pub ran_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
