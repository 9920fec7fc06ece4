use sea_orm::entity::prelude::*;

/// One revision of a field team's report on a planned visit.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "visit_logs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub stop_id: i64,
    pub revision: i32,
    pub is_current: bool,
    pub plan_id: i64,
    pub site_id: i64,
    pub team_id: i64,
    pub region_code: String,
    pub week: String,
    pub visit_date: Date,
    pub status: String,
    /// Service -> documents delivered.
    #[sea_orm(column_type = "JsonBinary")]
    pub counts: super::json::Tally,
    /// Reason -> people turned away.
    #[sea_orm(column_type = "JsonBinary")]
    pub turned_away: super::json::Tally,
    pub check_in_at: Option<DateTimeUtc>,
    pub check_in_lat: Option<f64>,
    pub check_in_lon: Option<f64>,
    pub check_out_at: Option<DateTimeUtc>,
    pub check_out_lat: Option<f64>,
    pub check_out_lon: Option<f64>,
    pub notes: String,
    /// Anomaly flags.
    #[sea_orm(column_type = "JsonBinary")]
    pub flags: super::json::Labels,
    pub logged_at: DateTimeUtc,
    pub logged_by: String,
    pub review: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub review_comment: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
