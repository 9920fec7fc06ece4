//! What the database knows of a region, read as it is: a region with its coverage and
//! boundaries, the sites and teams, and the counts `jemput demo` reports. No use case decides
//! anything here; the shells read through this module so that they never reach the store.

use std::collections::HashMap;

use crate::domain::RegionCode;
use crate::store::queries;
use crate::store::{Db, StoreError};

pub use crate::store::queries::{
    Counts, IndicatorCoverage, Page, RegionDetail, SiteView, TeamView,
};

/// A region with its coverage in `year` (and its boundary when asked).
pub async fn region(
    db: &Db,
    code: &RegionCode,
    year: i32,
    boundary: bool,
) -> Result<Option<RegionDetail>, StoreError> {
    queries::region_detail(db, code, year, boundary).await
}

/// Each indicator's coverage of a region in `year`, with its target and gap.
pub async fn coverage(
    db: &Db,
    code: &RegionCode,
    year: i32,
) -> Result<Vec<IndicatorCoverage>, StoreError> {
    queries::coverage_for(db, code, year).await
}

/// Active sites, inside `region` when given, of `kinds` (site kind codes) when not empty, one page
/// at a time.
pub async fn sites(
    db: &Db,
    region: Option<&RegionCode>,
    kinds: &[String],
    page: u64,
    per_page: u64,
) -> Result<Page<SiteView>, StoreError> {
    queries::list_sites(db, region, kinds, page, per_page).await
}

pub async fn teams(db: &Db) -> Result<Vec<TeamView>, StoreError> {
    queries::list_teams(db).await
}

/// The region of a site (`None` for no such site).
pub async fn site_region(db: &Db, id: i64) -> Result<Option<RegionCode>, StoreError> {
    queries::site_region(db, id).await
}

/// Names of regions by code.
pub async fn region_names(
    db: &Db,
    codes: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    queries::region_names(db, codes).await
}

/// The name of the kecamatan a region code (a desa or the kecamatan itself) lies in.
pub async fn kecamatan_name(db: &Db, region_code: &str) -> Result<Option<String>, StoreError> {
    let Some(code) = crate::store::plans::kecamatan_code(region_code) else {
        return Ok(None);
    };
    Ok(queries::region_names(db, std::slice::from_ref(&code))
        .await?
        .remove(&code))
}

/// Site names by id (ids not found are left out).
pub async fn site_names(db: &Db, ids: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
    Ok(crate::store::plans::sites_by_id(db, ids)
        .await?
        .into_values()
        .map(|s| (s.id, s.name))
        .collect())
}

/// How many regions, sites, teams, snapshots and targets a region holds.
pub async fn counts(db: &Db, code: &RegionCode) -> Result<Counts, StoreError> {
    queries::counts(db, code).await
}

/// The kabupaten/kota a region code lies in (`35.09.01.2001` → `35.09`); a province's code as
/// it is.
pub fn kabupaten_of(code: &str) -> String {
    code.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// The regions directly below `code` (a kabupaten's kecamatan) with their boundaries as GeoJSON.
pub async fn child_boundaries(
    db: &Db,
    code: &RegionCode,
) -> Result<Vec<(String, String, Option<serde_json::Value>)>, StoreError> {
    queries::child_boundaries(db, code).await
}

/// Each indicator's coverage of each of `codes` (all within `scope`), read in one go.
pub async fn coverage_within(
    db: &Db,
    scope: &RegionCode,
    codes: &[RegionCode],
    year: i32,
) -> Result<Vec<Vec<IndicatorCoverage>>, StoreError> {
    queries::coverage_within(db, scope, codes, year).await
}
