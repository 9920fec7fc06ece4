//! What the ranking reads: the sites of a kabupaten/kota with its regions, coverage, targets
//! and visit outcomes, in one pass.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::entity::{coverage_snapshots, regions, sites, targets};
use super::{StoreError, within};
use crate::domain::RegionCode;
use crate::domain::coverage::Coverage;
use crate::import::NATIONAL_SCOPE;

/// A site as listed in a ranking.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SiteBrief {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    pub kind: String,
    pub region_code: String,
    pub lat: f64,
    pub lon: f64,
    /// `exact`, `approx`, `coarse`, `centroid` (the region's centre: "lokasi perkiraan") or
    /// `synthetic`.
    pub coord_quality: String,
    /// Made up by a synthetic data layer (the demo): not a real place.
    pub synthetic: bool,
}

/// Everything `priority::rank` needs to rank the active sites inside `region`: the sites of the
/// whole surrounding kabupaten/kota (a region's estimates are shared out among all its sites,
/// so a kecamatan is ranked as part of its kabupaten) and its regions, latest coverage, targets
/// and visits.
pub async fn priority_inputs(
    db: &DatabaseConnection,
    region: &RegionCode,
) -> Result<
    Option<(
        Vec<crate::priority::Site>,
        crate::priority::Facts,
        HashMap<i64, SiteBrief>,
    )>,
    StoreError,
> {
    use super::entity::visit_outcomes;
    use crate::domain::region::Depth;
    use crate::priority::{Facts, Site, Visit};

    if regions::Entity::find_by_id(region.as_str())
        .one(db)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    // The kabupaten/kota around the region (or the province itself).
    let top = region
        .lineage()
        .into_iter()
        .find(|c| c.depth() == Depth::KabupatenKota)
        .unwrap_or_else(|| region.clone());
    let ancestors: Vec<String> = top.lineage().iter().map(|c| c.to_string()).collect();
    let tree: Vec<(String, Option<String>, String)> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Code)
        .column(regions::Column::ParentCode)
        .column(regions::Column::Name)
        .filter(
            within(regions::Column::Code, &top).add(regions::Column::Code.is_in(ancestors.clone())),
        )
        .into_tuple()
        .all(db)
        .await?;
    let mut facts = Facts::default();
    for (code, parent, name) in tree {
        if let Some(p) = parent {
            facts.children.entry(p).or_default().push(code.clone());
        }
        facts.region_names.insert(code, name);
    }
    for children in facts.children.values_mut() {
        children.sort();
    }
    let snapshots = coverage_snapshots::Entity::find()
        .filter(
            within(coverage_snapshots::Column::RegionCode, &top)
                .add(coverage_snapshots::Column::RegionCode.is_in(ancestors)),
        )
        // Snapshots derived from field logs are shown next to the official figures; the ranking
        // counts the logged deliveries themselves (as visits after the official snapshot).
        .filter(coverage_snapshots::Column::Source.ne(super::DERIVED_SOURCE))
        .order_by_asc(coverage_snapshots::Column::AsOf)
        .order_by_asc(coverage_snapshots::Column::Id)
        .all(db)
        .await?;
    for s in snapshots {
        facts.coverage.insert(
            (s.region_code, s.indicator),
            (
                Coverage {
                    eligible: s.eligible,
                    holders: s.holders,
                },
                s.as_of,
            ),
        );
    }
    facts.targets = all_targets(db).await?;

    let rows = sites::Entity::find()
        .filter(within(sites::Column::RegionCode, &top))
        .filter(sites::Column::Active.eq(true))
        .order_by_asc(sites::Column::ExternalId)
        .all(db)
        .await?;
    let mut sites_out = Vec::with_capacity(rows.len());
    let mut briefs = HashMap::with_capacity(rows.len());
    for s in rows {
        // Rows were validated on import; one that no longer parses is skipped loudly, not fatally.
        let (Ok(kind), Ok(code)) = (
            crate::domain::SiteKind::parse(&s.kind),
            RegionCode::parse(&s.region_code),
        ) else {
            tracing::warn!(
                site = s.id,
                "site with an unknown kind or region code left out of the ranking"
            );
            continue;
        };
        sites_out.push(Site {
            id: s.id,
            external_id: s.external_id.clone(),
            name: s.name.clone(),
            kind,
            region: code,
            eligible: s.eligible.0,
            counts: s.counts.0,
            counts_as_of: s.counts_as_of,
            synthetic: s.synthetic,
        });
        briefs.insert(
            s.id,
            SiteBrief {
                id: s.id,
                external_id: s.external_id,
                name: s.name,
                kind: s.kind,
                region_code: s.region_code,
                lat: s.lat,
                lon: s.lon,
                coord_quality: s.coord_quality,
                synthetic: s.synthetic,
            },
        );
    }
    let site_ids: Vec<i64> = briefs.keys().copied().collect();
    for chunk in site_ids.chunks(5000) {
        for v in visit_outcomes::Entity::find()
            .filter(visit_outcomes::Column::SiteId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            facts.visits.push(Visit {
                site_id: v.site_id,
                date: v.visited_on,
                delivered: v.delivered.0,
                revisit: v.source == super::PARTIAL_SOURCE,
            });
        }
    }
    Ok(Some((sites_out, facts, briefs)))
}

/// Every target, national and regional (a scope that no longer parses is left out).
async fn all_targets(db: &DatabaseConnection) -> Result<Vec<crate::priority::Target>, StoreError> {
    Ok(targets::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|t| {
            let region = if t.scope == NATIONAL_SCOPE {
                None
            } else {
                Some(RegionCode::parse(&t.scope).ok()?)
            };
            Some(crate::priority::Target {
                indicator: t.indicator,
                year: t.year,
                region,
                percent: t.percent,
                basis: crate::domain::coverage::TargetBasis::parse(&t.basis).unwrap_or_default(),
            })
        })
        .collect())
}
