use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "teams")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub kabupaten_code: String,
    pub base_name: String,
    pub base_lat: f64,
    pub base_lon: f64,
    pub kits: i32,
    /// `;`-separated, sorted capability codes.
    pub capabilities: String,
    /// Canonical weekly hours.
    pub working_hours: String,
    /// Laptop-and-printer sets (KIA, akta); `None`: the configured default.
    pub printers: Option<i32>,
    /// Phones for IKD activation; `None`: one per member.
    pub phones: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
