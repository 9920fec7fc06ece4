//! The ranking service: load from the store, score with the pure `priority` module, explain.
//! Shared by `jemput priorities`, `demo` and the HTTP API.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::DatabaseConnection;
use serde::Serialize;

use crate::domain::{RegionCode, SiteKind};
use crate::priority::{self, Language, Params, Scored, Term};
use crate::store::StoreError;
use crate::store::queries::{self, SiteBrief};

#[derive(Debug, Serialize)]
pub struct Ranking {
    pub region: String,
    pub region_name: String,
    /// ISO week, e.g. `2026-W48`, and its Monday (the reference day of the score).
    pub week: String,
    pub week_start: NaiveDate,
    /// Sites scored (all active sites in the region, before the kind filter and the limit).
    pub sites_ranked: usize,
    /// Sites matching the kind filter.
    pub sites_matching: usize,
    pub items: Vec<RankedSite>,
}

#[derive(Debug, Serialize)]
pub struct RankedSite {
    /// Position among all active sites of the region (1 = first).
    pub rank: usize,
    pub site: SiteBrief,
    pub score: f64,
    /// Expected people per indicator.
    pub expected_people: BTreeMap<String, f64>,
    pub factors: Factors,
    pub explanation: Explanation,
}

/// The named factors; `score = Σ terms[i].value × recency × fairness`, and each
/// `value = expected_people × value_per_person × indicator_weight × urgency × vulnerability`.
#[derive(Debug, Serialize)]
pub struct Factors {
    pub terms: Vec<Term>,
    pub recency: f64,
    pub fairness: f64,
    pub days_since_visit: Option<i64>,
    pub weeks_since_desa_visit: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Explanation {
    pub id: String,
    pub en: String,
}

pub fn week_start(week: &str) -> Result<NaiveDate, String> {
    priority::parse_iso_week(week)
}

/// Rank the active sites of `region` for `week`; `None` if the region does not exist.
pub async fn rank_region(
    db: &DatabaseConnection,
    params: &Params,
    region: &RegionCode,
    week: &str,
    kinds: &[SiteKind],
    limit: usize,
) -> Result<Option<Ranking>, RankError> {
    let start = week_start(week).map_err(RankError::BadWeek)?;
    let Some((sites, facts, mut briefs)) = queries::priority_inputs(db, region).await? else {
        return Ok(None);
    };
    let ranked = priority::rank(&sites, &facts, params, start);
    let by_id: std::collections::HashMap<i64, &priority::Site> =
        sites.iter().map(|s| (s.id, s)).collect();
    // The whole kabupaten/kota is scored together; the answer is the region's sites.
    let ranked: Vec<Scored> = ranked
        .into_iter()
        .filter(|s| by_id[&s.site_id].region.is_within(region))
        .collect();
    let sites_ranked = ranked.len();
    let matching: Vec<(usize, Scored)> = ranked
        .into_iter()
        .enumerate()
        .filter(|(_, s)| kinds.is_empty() || kinds.contains(&by_id[&s.site_id].kind))
        .collect();
    let sites_matching = matching.len();
    let items = matching
        .into_iter()
        .take(limit)
        .map(|(i, scored)| {
            let site = by_id[&scored.site_id];
            let brief = briefs
                .remove(&scored.site_id)
                .expect("every scored site has a brief");
            item(i + 1, site, brief, scored, &facts.region_names)
        })
        .collect();
    Ok(Some(Ranking {
        region: region.to_string(),
        region_name: facts
            .region_names
            .get(region.as_str())
            .cloned()
            .unwrap_or_default(),
        week: week.to_string(),
        week_start: start,
        sites_ranked,
        sites_matching,
        items,
    }))
}

/// One site's priority, ranked among the active sites of its kabupaten/kota.
pub async fn site_priority(
    db: &DatabaseConnection,
    params: &Params,
    site_id: i64,
    week: &str,
) -> Result<Option<RankedSite>, RankError> {
    let Some(region) = queries::site_region(db, site_id).await? else {
        return Ok(None);
    };
    let kabupaten = region
        .lineage()
        .into_iter()
        .find(|c| c.depth() == crate::domain::region::Depth::KabupatenKota)
        .unwrap_or(region);
    let Some(ranking) = rank_region(db, params, &kabupaten, week, &[], usize::MAX).await? else {
        return Ok(None);
    };
    Ok(ranking.items.into_iter().find(|i| i.site.id == site_id))
}

fn item(
    rank: usize,
    site: &priority::Site,
    brief: SiteBrief,
    scored: Scored,
    names: &std::collections::HashMap<String, String>,
) -> RankedSite {
    let explanation = Explanation {
        id: priority::explain(site, &scored, names, Language::Id),
        en: priority::explain(site, &scored, names, Language::En),
    };
    RankedSite {
        rank,
        site: brief,
        score: scored.score,
        expected_people: scored
            .terms
            .iter()
            .map(|t| (t.indicator.to_string(), t.expected_people))
            .collect(),
        explanation,
        factors: Factors {
            terms: scored.terms,
            recency: scored.recency,
            fairness: scored.fairness,
            days_since_visit: scored.days_since_visit,
            weeks_since_desa_visit: scored.weeks_since_desa_visit,
        },
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RankError {
    #[error("{0}")]
    BadWeek(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
