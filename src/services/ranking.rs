//! The ranking service: load from the store, score with the pure `priority` module, explain.
//! Shared by `jemput priorities`, `demo` and the HTTP API.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::store::Db;
use chrono::NaiveDate;
use moka::future::Cache;
use serde::Serialize;

use crate::domain::region::Depth;
use crate::domain::{RegionCode, SiteKind};
use crate::heavy::{Busy, HeavyWork};
use crate::priority::{self, Language, Params, Scored, Term};
use crate::store::StoreError;
use crate::store::queries::{self, SiteBrief};

#[derive(Debug, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Factors {
    pub terms: Vec<Term>,
    pub recency: f64,
    pub fairness: f64,
    pub days_since_visit: Option<i64>,
    pub weeks_since_desa_visit: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Explanation {
    pub id: String,
    pub en: String,
}

pub fn week_start(week: &str) -> Result<NaiveDate, String> {
    priority::parse_iso_week(week)
}

/// Rankings computed, kept for reuse.
///
/// Scoring a kabupaten takes hundreds of milliseconds of CPU; its inputs change a few times a
/// week. A scoring is therefore kept under (kabupaten/kota, week, data version), where the data
/// version is moved by the database's own triggers on every change to the inputs
/// (`store::data_version`), so a cached ranking is never served after its data changed — in this
/// process or in another `serve` on the same database. Concurrent requests for one key wait for
/// one computation; different keys go through the bounded heavy-work gate.
pub struct Ranker {
    params: Arc<Params>,
    work: Arc<HeavyWork>,
    cache: Cache<(String, NaiveDate, i64), Arc<Option<Scoring>>>,
    /// Answers built from a cached scoring (the sentences are most of a request's work), under
    /// the scoring's version plus the request's region, week, kinds and limit.
    answers: Cache<AnswerKey, Arc<Ranking>>,
    computed: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AnswerKey {
    version: i64,
    region: String,
    week: String,
    kinds: Vec<SiteKind>,
    limit: usize,
}

/// Items of cached answers, in all: about 2 KB each.
const CACHED_ANSWER_ITEMS: u64 = 50_000;

/// A kabupaten/kota's whole ranking, before any filter.
struct Scoring {
    sites: HashMap<i64, priority::Site>,
    /// Best first.
    ranked: Vec<Scored>,
    briefs: HashMap<i64, SiteBrief>,
    region_names: HashMap<String, String>,
}

/// Rankings kept: a few weeks of a few kabupaten/kota (several MB each for Jember).
const CACHED_RANKINGS: u64 = 8;

impl Ranker {
    pub fn new(params: Arc<Params>, work: Arc<HeavyWork>) -> Self {
        Self {
            params,
            work,
            cache: Cache::builder()
                .max_capacity(CACHED_RANKINGS)
                .time_to_idle(std::time::Duration::from_secs(30 * 60))
                .build(),
            answers: Cache::builder()
                .max_capacity(CACHED_ANSWER_ITEMS)
                .weigher(|_, v: &Arc<Ranking>| u32::try_from(v.items.len() + 1).unwrap_or(u32::MAX))
                .time_to_idle(std::time::Duration::from_secs(30 * 60))
                .build(),
            computed: Default::default(),
        }
    }

    /// Scorings computed (not served from the cache) since this ranker was made.
    pub fn computed(&self) -> u64 {
        self.computed.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The gate heavy work goes through (the planner's search uses it too).
    pub fn work(&self) -> &Arc<HeavyWork> {
        &self.work
    }

    /// The scoring of the kabupaten/kota around `region` for the week starting `start`.
    async fn scoring(
        &self,
        db: &Db,
        region: &RegionCode,
        start: NaiveDate,
    ) -> Result<(i64, Arc<Option<Scoring>>), RankError> {
        let top = region
            .lineage()
            .into_iter()
            .find(|c| c.depth() == Depth::KabupatenKota)
            .unwrap_or_else(|| region.clone());
        // The version first, then the inputs: data newer than the key is harmless (the next
        // request sees a newer version and recomputes); the other way round would not be.
        let version = crate::store::data_version(db).await?;
        let key = (top.to_string(), start, version);
        let computed = self
            .cache
            .try_get_with(key, async {
                // The slot covers loading the inputs too: they are most of the memory.
                let slot = self.work.admit().await?;
                let Some((sites, facts, briefs)) = queries::priority_inputs(db, &top).await? else {
                    return Ok(Arc::new(None));
                };
                self.computed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let params = self.params.clone();
                let (sites, facts, ranked) = slot
                    .run(move || {
                        let ranked = priority::rank(&sites, &facts, &params, start);
                        (sites, facts, ranked)
                    })
                    .await;
                drop(slot);
                Ok::<_, RankError>(Arc::new(Some(Scoring {
                    sites: sites.into_iter().map(|s| (s.id, s)).collect(),
                    ranked,
                    briefs,
                    region_names: facts.region_names,
                })))
            })
            .await;
        computed
            .map(|scoring| (version, scoring))
            .map_err(|shared| match shared.as_ref() {
                RankError::BadWeek(m) => RankError::BadWeek(m.clone()),
                RankError::Busy(b) => RankError::Busy(*b),
                other => RankError::Shared(other.to_string(), other.busy()),
            })
    }

    /// Rank the active sites of `region` for `week`; `None` if the region does not exist.
    pub async fn rank_region(
        &self,
        db: &Db,
        region: &RegionCode,
        week: &str,
        kinds: &[SiteKind],
        limit: usize,
    ) -> Result<Option<Arc<Ranking>>, RankError> {
        let start = week_start(week).map_err(RankError::BadWeek)?;
        let (version, scoring) = self.scoring(db, region, start).await?;
        let Some(scoring) = scoring.as_ref() else {
            return Ok(None);
        };
        let key = AnswerKey {
            version,
            region: region.to_string(),
            week: week.to_string(),
            kinds: kinds.to_vec(),
            limit,
        };
        if let Some(answer) = self.answers.get(&key).await {
            return Ok(Some(answer));
        }
        // The whole kabupaten/kota is scored together; the answer is the region's sites.
        let Some(region_name) = scoring.region_names.get(region.as_str()) else {
            return Ok(None);
        };
        let in_region = scoring
            .ranked
            .iter()
            .filter(|s| scoring.sites[&s.site_id].region.is_within(region));
        let sites_ranked = in_region.clone().count();
        let matching = in_region
            .enumerate()
            .filter(|(_, s)| kinds.is_empty() || kinds.contains(&scoring.sites[&s.site_id].kind));
        let sites_matching = matching.clone().count();
        let items = matching
            .take(limit)
            .map(|(i, scored)| {
                item(
                    i + 1,
                    &scoring.sites[&scored.site_id],
                    scoring.briefs[&scored.site_id].clone(),
                    scored.clone(),
                    &scoring.region_names,
                )
            })
            .collect();
        let answer = Arc::new(Ranking {
            region: region.to_string(),
            region_name: region_name.clone(),
            week: week.to_string(),
            week_start: start,
            sites_ranked,
            sites_matching,
            items,
        });
        self.answers.insert(key, answer.clone()).await;
        Ok(Some(answer))
    }

    /// One site's priority, ranked among the active sites of its kabupaten/kota.
    pub async fn site_priority(
        &self,
        db: &Db,
        site_id: i64,
        week: &str,
    ) -> Result<Option<RankedSite>, RankError> {
        let Some(region) = queries::site_region(db, site_id).await? else {
            return Ok(None);
        };
        let start = week_start(week).map_err(RankError::BadWeek)?;
        let (_, scoring) = self.scoring(db, &region, start).await?;
        let Some(scoring) = scoring.as_ref() else {
            return Ok(None);
        };
        Ok(scoring
            .ranked
            .iter()
            .position(|s| s.site_id == site_id)
            .map(|i| {
                let scored = &scoring.ranked[i];
                item(
                    i + 1,
                    &scoring.sites[&site_id],
                    scoring.briefs[&site_id].clone(),
                    scored.clone(),
                    &scoring.region_names,
                )
            }))
    }
}

fn item(
    rank: usize,
    site: &priority::Site,
    brief: SiteBrief,
    scored: Scored,
    names: &HashMap<String, String>,
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
    #[error(transparent)]
    Busy(#[from] Busy),
    /// The error of a computation another request started and this one waited for: its text,
    /// and whether it was the database or the server being busy (to be retried, not a bug).
    #[error("{0}")]
    Shared(String, bool),
}

impl RankError {
    /// Busy (retry later) rather than broken.
    pub fn busy(&self) -> bool {
        match self {
            RankError::Store(e) => e.is_busy(),
            RankError::Busy(_) => true,
            RankError::Shared(_, busy) => *busy,
            RankError::BadWeek(_) => false,
        }
    }
}
