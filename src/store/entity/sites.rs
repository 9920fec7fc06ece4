use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sites")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    #[sea_orm(unique)]
    pub external_id: String,
    pub name: String,
    pub address: String,
    pub region_code: String,
    pub lat: f64,
    pub lon: f64,
    pub coord_quality: String,
    /// Indicator -> estimated eligible people.
    #[sea_orm(column_type = "JsonBinary")]
    pub eligible: super::json::Counts,
    /// Canonical weekly hours; empty means "the default for this kind of site".
    pub opening_hours: String,
    pub ownership: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub active: bool,
    /// Made up by a synthetic data layer (the demo): not a real place.
    pub synthetic: bool,
    /// Indicator -> the site's own count of people not yet served.
    #[sea_orm(column_type = "JsonBinary")]
    pub counts: super::json::Counts,
    pub counts_as_of: Option<Date>,
    /// An event (a crowd point on one date): the site exists on this day only.
    pub event_date: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
