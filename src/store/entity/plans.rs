use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub region_code: String,
    pub week: String,
    /// `draft`, `published`, or `superseded` (an older published version of the region-week).
    pub status: String,
    pub version: i32,
    pub seed: i64,
    pub prize: f64,
    pub travel_s: i64,
    pub upper_bound: f64,
    pub visits: i32,
    #[sea_orm(column_type = "JsonBinary")]
    pub stats: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub unscheduled: Json,
    pub base_plan_id: Option<i64>,
    pub moved: Option<i32>,
    pub added: Option<i32>,
    pub dropped: Option<i32>,
    /// Completed visits kept as they were.
    pub kept: Option<i32>,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    /// The coordinator approved this version for the weekly trigger to publish and send.
    pub approved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
