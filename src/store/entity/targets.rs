use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "targets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub indicator: String,
    pub year: i32,
    /// `nasional` or a region code.
    pub scope: String,
    pub percent: f64,
    /// `eligible` (the indicator's own denominator) or `ktp_el` (KTP-el holders).
    pub basis: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
