use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_stops")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub team_id: i64,
    pub day: Date,
    pub seq: i32,
    pub site_id: i64,
    pub part: i32,
    pub parts: i32,
    pub arrive: String,
    pub start: String,
    pub end: String,
    pub travel_from_prev_s: i32,
    /// Expected people per indicator for this visit.
    #[sea_orm(column_type = "JsonBinary")]
    pub people: super::json::People,
    pub priority: f64,
    /// Pinned by the coordinator or frozen (a completed day) when this plan was made.
    pub pinned: bool,
    /// Cards printed on site per kind (`ktp_el`, `kia`).
    #[sea_orm(column_type = "JsonBinary")]
    pub cards: super::json::Tally,
    /// `antar` (a PAUD's drop-off), `ambil` (its pick-up) or empty.
    pub task: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
