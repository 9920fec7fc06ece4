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
    /// Canonical JSON object, indicator -> estimated eligible people.
    pub eligible: String,
    /// Canonical weekly hours; empty means "the default for this kind of site".
    pub opening_hours: String,
    pub ownership: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub active: bool,
    /// Made up by a synthetic data layer (the demo): not a real place.
    pub synthetic: bool,
    /// Canonical JSON object, indicator -> the site's own count of people not yet served.
    pub counts: String,
    pub counts_as_of: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
