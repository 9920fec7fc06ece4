use sea_orm::entity::prelude::*;

/// Blank cards a kabupaten/kota office holds on a day (the newest on or before a week counts).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "blangko_stock")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub region_code: String,
    pub as_of: Date,
    pub ktp_el: i32,
    pub kia: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
