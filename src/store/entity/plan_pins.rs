use sea_orm::entity::prelude::*;

/// A coordinator's pin: this visit (site and part) goes to this team on this day, in every plan
/// of the region-week.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_pins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub region_code: String,
    pub week: String,
    pub site_id: i64,
    pub part: i32,
    pub team_id: i64,
    pub day: Date,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
