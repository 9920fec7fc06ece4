//! Read models for the API and the CLI.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;

use super::entity::{coverage_snapshots, indicators, regions, sites, targets, team_members, teams};
pub use super::ranking_inputs::{SiteBrief, priority_inputs};
use super::{StoreError, within};
use crate::domain::coverage::TargetBasis;
use crate::domain::coverage::{gap_points, rollup};
use crate::domain::{Coverage, RegionCode};
use crate::import::NATIONAL_SCOPE;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegionSummary {
    pub code: String,
    pub name: String,
    pub level: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegionDetail {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub time_zone: String,
    /// GeoJSON MultiPolygon, only when asked for (`?boundary=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boundary: Option<serde_json::Value>,
    pub has_boundary: bool,
    pub children: Vec<RegionSummary>,
    pub coverage: Vec<IndicatorCoverage>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorCoverage {
    pub indicator: String,
    pub name_id: String,
    pub name_en: String,
    pub eligible: Option<i64>,
    pub holders: Option<i64>,
    pub percent: Option<f64>,
    /// Latest as-of date among the snapshots used.
    pub as_of: Option<chrono::NaiveDate>,
    /// `snapshot` (this region's own) or `rollup` (sum of the regions below).
    pub basis: Option<&'static str>,
    /// How many regions' snapshots were summed.
    pub regions_counted: usize,
    pub target_percent: Option<f64>,
    /// What the target (and so `eligible` and `percent` here) counts against: `eligible` (the
    /// indicator's own people, e.g. wajib KTP) or `ktp_el` (KTP-el holders).
    pub target_basis: Option<&'static str>,
    pub target_year: Option<i32>,
    /// Where the target comes from: `nasional` or the region code of an override.
    pub target_scope: Option<String>,
    /// Percentage points below target (0 at or above).
    pub gap_points: Option<f64>,
}

pub async fn region_detail(
    db: &DatabaseConnection,
    code: &RegionCode,
    year: i32,
    with_boundary: bool,
) -> Result<Option<RegionDetail>, StoreError> {
    let Some(region) = regions::Entity::find_by_id(code.as_str()).one(db).await? else {
        return Ok(None);
    };
    let children = regions::Entity::find()
        .filter(regions::Column::ParentCode.eq(code.as_str()))
        .order_by_asc(regions::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(|r| RegionSummary {
            code: r.code,
            name: r.name,
            level: r.level,
        })
        .collect();
    let coverage = coverage_for(db, code, year).await?;
    Ok(Some(RegionDetail {
        has_boundary: region.boundary.is_some(),
        boundary: if with_boundary {
            region
                .boundary
                .as_deref()
                .and_then(|b| serde_json::from_str(b).ok())
        } else {
            None
        },
        code: region.code,
        name: region.name,
        level: region.level,
        parent_code: region.parent_code,
        lat: region.lat,
        lon: region.lon,
        time_zone: region.time_zone,
        children,
        coverage,
    }))
}

/// Coverage per indicator for a region: its own latest snapshot, or the roll-up of the latest
/// snapshots below it; with the target that applies (finest override, else national).
pub async fn coverage_for(
    db: &DatabaseConnection,
    code: &RegionCode,
    year: i32,
) -> Result<Vec<IndicatorCoverage>, StoreError> {
    Ok(coverage_within(db, code, std::slice::from_ref(code), year)
        .await?
        .pop()
        .unwrap_or_default())
}

/// Latest snapshot per indicator and region: (coverage, as-of).
type Latest = HashMap<String, HashMap<String, (Coverage, chrono::NaiveDate)>>;

/// `coverage_for` each of `codes` (all within `scope`, e.g. a kabupaten's kecamatan), with the
/// regions, snapshots and targets read once: a map of 31 kecamatan is five queries, not 150.
pub async fn coverage_within(
    db: &DatabaseConnection,
    scope: &RegionCode,
    codes: &[RegionCode],
    year: i32,
) -> Result<Vec<Vec<IndicatorCoverage>>, StoreError> {
    let tree: Vec<(String, Option<String>)> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Code)
        .column(regions::Column::ParentCode)
        .filter(within(regions::Column::Code, scope))
        .into_tuple()
        .all(db)
        .await?;
    let mut children: HashMap<String, Vec<String>> = HashMap::new();
    for (c, parent) in tree {
        if let Some(p) = parent {
            children.entry(p).or_default().push(c);
        }
    }
    // Latest snapshot per (region, indicator): order so later rows overwrite earlier ones.
    let snapshots = coverage_snapshots::Entity::find()
        .filter(within(coverage_snapshots::Column::RegionCode, scope))
        .filter(coverage_snapshots::Column::Source.ne(super::DERIVED_SOURCE))
        .order_by_asc(coverage_snapshots::Column::AsOf)
        .order_by_asc(coverage_snapshots::Column::Id)
        .all(db)
        .await?;
    let mut latest: Latest = HashMap::new();
    for s in snapshots {
        latest.entry(s.indicator).or_default().insert(
            s.region_code,
            (
                Coverage {
                    eligible: s.eligible,
                    holders: s.holders,
                },
                s.as_of,
            ),
        );
    }
    let mut scopes: Vec<String> = scope.lineage().iter().map(|c| c.to_string()).collect();
    scopes.extend(
        codes
            .iter()
            .flat_map(|c| c.lineage())
            .map(|c| c.to_string()),
    );
    scopes.push(NATIONAL_SCOPE.to_string());
    scopes.sort();
    scopes.dedup();
    let all_targets = targets::Entity::find()
        .filter(targets::Column::Scope.is_in(scopes))
        .filter(targets::Column::Year.lte(year))
        .all(db)
        .await?;
    let indicators = indicators::Entity::find()
        .order_by_asc(indicators::Column::Code)
        .all(db)
        .await?;
    Ok(codes
        .iter()
        .map(|code| coverage_of(code, &children, &latest, &all_targets, &indicators))
        .collect())
}

/// One region's coverage per indicator from what `coverage_within` read.
fn coverage_of(
    code: &RegionCode,
    children: &HashMap<String, Vec<String>>,
    latest: &Latest,
    all_targets: &[targets::Model],
    indicators: &[indicators::Model],
) -> Vec<IndicatorCoverage> {
    let inside = |r: &str| crate::auth::region_within(r, code.as_str());
    let own_of = |indicator: &str| -> HashMap<String, Coverage> {
        latest
            .get(indicator)
            .map(|per| {
                per.iter()
                    .filter(|(k, _)| inside(k))
                    .map(|(k, v)| (k.clone(), v.0))
                    .collect()
            })
            .unwrap_or_default()
    };
    // KTP-el holders: the denominator of a target set as a share of them (IKD in Jawa Timur).
    let ktp_el_holders = rollup(code.as_str(), children, &own_of("ktp_el")).map(|(c, _)| c.holders);
    let mut scopes: Vec<String> = code.lineage().iter().map(|c| c.to_string()).collect();
    scopes.push(NATIONAL_SCOPE.to_string());
    let mut out = Vec::new();
    for ind in indicators {
        let own = own_of(&ind.code);
        let as_of = latest.get(&ind.code).and_then(|per| {
            per.iter()
                .filter(|(k, _)| inside(k))
                .map(|(_, v)| v.1)
                .max()
        });
        let cov = rollup(code.as_str(), children, &own);
        // The finest scope wins; within a scope the latest year up to the one asked for.
        let target = scopes.iter().find_map(|scope| {
            all_targets
                .iter()
                .filter(|t| t.indicator == ind.code && &t.scope == scope)
                .max_by_key(|t| t.year)
        });
        let basis = target
            .map(|t| TargetBasis::parse(&t.basis).unwrap_or_default())
            .unwrap_or_default();
        let cov = match (basis, cov, ktp_el_holders) {
            (TargetBasis::KtpElHolders, Some((c, n)), Some(k)) => Some((
                Coverage {
                    eligible: k,
                    holders: c.holders,
                },
                n,
            )),
            (_, cov, _) => cov,
        };
        let percent = cov.and_then(|(c, _)| c.percent());
        out.push(IndicatorCoverage {
            eligible: cov.map(|(c, _)| c.eligible),
            holders: cov.map(|(c, _)| c.holders),
            percent: percent.map(round2),
            as_of,
            basis: cov.map(|(_, n)| {
                if own.contains_key(code.as_str()) {
                    "snapshot"
                } else if n > 0 {
                    "rollup"
                } else {
                    "snapshot"
                }
            }),
            regions_counted: cov.map(|(_, n)| n).unwrap_or(0),
            target_percent: target.map(|t| t.percent),
            target_basis: target.map(|_| basis.as_str()),
            target_year: target.map(|t| t.year),
            target_scope: target.map(|t| t.scope.clone()),
            gap_points: match (percent, target) {
                (Some(p), Some(t)) => Some(round2(gap_points(p, t.percent))),
                _ => None,
            },
            indicator: ind.code.clone(),
            name_id: ind.name_id.clone(),
            name_en: ind.name_en.clone(),
        });
    }
    out
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SiteView {
    pub id: i64,
    pub kind: String,
    pub external_id: String,
    pub name: String,
    pub address: String,
    pub region_code: String,
    pub lat: f64,
    pub lon: f64,
    pub coord_quality: String,
    /// People eligible per indicator.
    pub eligible: std::collections::BTreeMap<String, i64>,
    /// `null`: the default hours for this kind of site apply.
    pub opening_hours: Option<String>,
    pub ownership: Option<String>,
    pub contact: Contact,
    pub active: bool,
    /// Made up by a synthetic data layer (the demo): not a real place.
    pub synthetic: bool,
    /// The site's own count of people not yet served per indicator, and its date.
    pub counts: std::collections::BTreeMap<String, i64>,
    pub counts_as_of: Option<chrono::NaiveDate>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
    pub pages: u64,
}

pub async fn list_sites(
    db: &DatabaseConnection,
    region: Option<&RegionCode>,
    kinds: &[String],
    page: u64,
    per_page: u64,
) -> Result<Page<SiteView>, StoreError> {
    let mut q = sites::Entity::find();
    if let Some(r) = region {
        q = q.filter(within(sites::Column::RegionCode, r));
    }
    if !kinds.is_empty() {
        q = q.filter(sites::Column::Kind.is_in(kinds.to_vec()));
    }
    let paginator = q.order_by_asc(sites::Column::Id).paginate(db, per_page);
    let counts = paginator.num_items_and_pages().await?;
    let items = paginator
        .fetch_page(page.saturating_sub(1))
        .await?
        .into_iter()
        .map(|s| SiteView {
            id: s.id,
            kind: s.kind,
            external_id: s.external_id,
            name: s.name,
            address: s.address,
            region_code: s.region_code,
            lat: s.lat,
            lon: s.lon,
            coord_quality: s.coord_quality,
            eligible: s.eligible.0,
            opening_hours: (!s.opening_hours.is_empty()).then_some(s.opening_hours),
            ownership: s.ownership,
            contact: Contact {
                name: s.contact_name,
                email: s.contact_email,
                phone: s.contact_phone,
            },
            active: s.active,
            synthetic: s.synthetic,
            counts: s.counts.0,
            counts_as_of: s.counts_as_of,
        })
        .collect();
    Ok(Page {
        items,
        page,
        per_page,
        total: counts.number_of_items,
        pages: counts.number_of_pages,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TeamView {
    pub id: i64,
    pub name: String,
    pub kabupaten_code: String,
    pub base: Base,
    pub kits: i32,
    pub capabilities: Vec<String>,
    pub working_hours: String,
    pub members: Vec<MemberView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Base {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub name: String,
    pub email: String,
    pub language: String,
}

pub async fn list_teams(db: &DatabaseConnection) -> Result<Vec<TeamView>, StoreError> {
    let teams = teams::Entity::find()
        .order_by_asc(teams::Column::Name)
        .all(db)
        .await?;
    let mut members: HashMap<i64, Vec<MemberView>> = HashMap::new();
    for m in team_members::Entity::find()
        .order_by_asc(team_members::Column::Email)
        .all(db)
        .await?
    {
        members.entry(m.team_id).or_default().push(MemberView {
            name: m.name,
            email: m.email,
            language: m.language,
        });
    }
    Ok(teams
        .into_iter()
        .map(|t| TeamView {
            members: members.remove(&t.id).unwrap_or_default(),
            id: t.id,
            name: t.name,
            kabupaten_code: t.kabupaten_code,
            base: Base {
                name: t.base_name,
                lat: t.base_lat,
                lon: t.base_lon,
            },
            kits: t.kits,
            capabilities: t
                .capabilities
                .split(';')
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect(),
            working_hours: t.working_hours,
        })
        .collect())
}

/// Row counts for `demo` and the health of an import.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub regions_by_level: Vec<(String, u64)>,
    pub regions_with_boundary: u64,
    pub sites_by_kind: Vec<(String, u64)>,
    pub teams: u64,
    pub team_members: u64,
    pub coverage_snapshots: u64,
    pub regions_with_coverage: u64,
    pub targets: u64,
}

pub async fn counts(
    db: &DatabaseConnection,
    within_code: &RegionCode,
) -> Result<Counts, StoreError> {
    let regions_by_level: Vec<(String, i64)> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Level)
        .column_as(regions::Column::Code.count(), "n")
        .filter(within(regions::Column::Code, within_code))
        .group_by(regions::Column::Level)
        .order_by_asc(regions::Column::Level)
        .into_tuple()
        .all(db)
        .await?;
    let sites_by_kind: Vec<(String, i64)> = sites::Entity::find()
        .select_only()
        .column(sites::Column::Kind)
        .column_as(sites::Column::Id.count(), "n")
        .filter(within(sites::Column::RegionCode, within_code))
        .group_by(sites::Column::Kind)
        .order_by_asc(sites::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    let regions_with_coverage: Vec<String> = coverage_snapshots::Entity::find()
        .select_only()
        .column(coverage_snapshots::Column::RegionCode)
        .distinct()
        .filter(within(coverage_snapshots::Column::RegionCode, within_code))
        .into_tuple()
        .all(db)
        .await?;
    Ok(Counts {
        regions_by_level: regions_by_level
            .into_iter()
            .map(|(l, n)| (l, n as u64))
            .collect(),
        regions_with_boundary: regions::Entity::find()
            .filter(within(regions::Column::Code, within_code))
            .filter(regions::Column::Boundary.is_not_null())
            .count(db)
            .await?,
        sites_by_kind: sites_by_kind
            .into_iter()
            .map(|(k, n)| (k, n as u64))
            .collect(),
        teams: teams::Entity::find().count(db).await?,
        team_members: team_members::Entity::find().count(db).await?,
        coverage_snapshots: coverage_snapshots::Entity::find()
            .filter(within(coverage_snapshots::Column::RegionCode, within_code))
            .count(db)
            .await?,
        regions_with_coverage: regions_with_coverage.len() as u64,
        targets: targets::Entity::find().count(db).await?,
    })
}

/// The region code a site is filed under.
pub async fn site_region(
    db: &DatabaseConnection,
    site_id: i64,
) -> Result<Option<RegionCode>, StoreError> {
    Ok(sites::Entity::find_by_id(site_id)
        .one(db)
        .await?
        .and_then(|s| RegionCode::parse(&s.region_code).ok()))
}

/// Names of regions by code (codes not found are left out).
pub async fn region_names(
    db: &DatabaseConnection,
    codes: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    Ok(regions::Entity::find()
        .filter(regions::Column::Code.is_in(codes.to_vec()))
        .select_only()
        .column(regions::Column::Code)
        .column(regions::Column::Name)
        .into_tuple::<(String, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The regions directly below `code` with their GeoJSON boundaries (`None` where none was
/// imported), by code: one query for a map of a kabupaten's kecamatan.
pub async fn child_boundaries(
    db: &DatabaseConnection,
    code: &RegionCode,
) -> Result<Vec<(String, String, Option<serde_json::Value>)>, StoreError> {
    Ok(regions::Entity::find()
        .filter(regions::Column::ParentCode.eq(code.as_str()))
        .select_only()
        .column(regions::Column::Code)
        .column(regions::Column::Name)
        .column(regions::Column::Boundary)
        .order_by_asc(regions::Column::Code)
        .into_tuple::<(String, String, Option<String>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(c, n, b)| (c, n, b.and_then(|b| serde_json::from_str(&b).ok())))
        .collect())
}
