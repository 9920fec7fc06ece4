//! Explainable coverage-gap priorities (pure: no database, no HTTP).
//!
//! For one reference day (the Monday of the planned week) every candidate site gets a score:
//!
//! ```text
//! score = Σ over the indicators the site serves of
//!           expected people × value per person × indicator weight × urgency × vulnerability
//!         × recency × fairness
//! ```
//!
//! **Expected people** come from data and say which data:
//! - *count*: the site's own count of people not yet served (a school's list, imported as
//!   `unrecorded_<indicator>`), minus what visits delivered there since the count;
//! - *estimate*: the site's eligible people × the uncovered share of the finest region with a
//!   coverage figure (desa → kecamatan → kabupaten) × turnout, minus what visits delivered there
//!   since that figure. The estimates of a region's sites never add up to more than the
//!   region's uncovered people (after deliveries and the sites with own counts): where they
//!   would, every estimate in the region is scaled down by the same factor (`region_cap`). No
//!   school-cohort floor is assumed: a school's own list is the way to say its students are
//!   further behind than their kecamatan;
//! - *no data*: no coverage figure anywhere above the site: nothing is claimed.
//!
//! **Value per person** is the share of its indicator's remaining shortfall a person closes, in
//! basis points (1/100 %): `10,000 ÷ shortfall`, where the shortfall is the people the site's
//! kabupaten/kota still needs to reach its target (target × eligible − holders − approved
//! deliveries since the figure). So closing 1 % of any indicator's shortfall is worth the same
//! 100 points, whether the indicator is 0.8 or 25 points short. At or above target a person still
//! counts `above_target_weight` × 10,000 ÷ the uncovered people: a small residual value.
//!
//! *urgency* = 1 + Σ boost × (1 − days left / horizon) over configured deadlines within reach;
//! *recency* = 1 − max_penalty × e^(−days since the site's last visit / τ) (1 if never visited);
//! *fairness* = 1 + max_boost × min(1, weeks since any visit in the site's desa / N weeks).
//! Travel is not in the score: the planner trades it off.

mod explain;

pub use explain::{Language, explain};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::coverage::Coverage;
use crate::domain::{RegionCode, SiteKind};

/// Scoring parameters; defaults and their reasons are in `config/default.toml` `[priority]`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// A policy weight per indicator on top of the shortfall rule (1 = the rule alone).
    pub indicator_weights: BTreeMap<String, f64>,
    /// Value of a person above target, relative to closing the same share of the uncovered.
    pub above_target_weight: f64,
    pub turnout: BTreeMap<String, f64>,
    pub vulnerability_weight: f64,
    pub recency_max_penalty: f64,
    pub recency_tau_days: f64,
    pub fairness_weeks: f64,
    pub fairness_max_boost: f64,
    /// Coverage figures older than this (days before the planned week) are flagged as old.
    pub coverage_max_age_days: i64,
    #[serde(default)]
    pub deadlines: Vec<Deadline>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    pub name: String,
    pub date: NaiveDate,
    /// Empty: every indicator.
    #[serde(default)]
    pub indicators: Vec<String>,
    /// Empty: every kind of site.
    #[serde(default)]
    pub kinds: Vec<String>,
    pub horizon_days: u32,
    pub boost: f64,
}

impl Params {
    pub fn validate(&self) -> Result<(), String> {
        let unit = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("priority.{name}: harus 0..1, bukan {v}"))
            }
        };
        let non_negative = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("priority.{name}: harus ≥ 0, bukan {v}"))
            }
        };
        unit("recency_max_penalty", self.recency_max_penalty)?;
        unit("above_target_weight", self.above_target_weight)?;
        non_negative("fairness_max_boost", self.fairness_max_boost)?;
        non_negative("vulnerability_weight", self.vulnerability_weight)?;
        if self.recency_tau_days <= 0.0 || self.fairness_weeks <= 0.0 {
            return Err("priority.recency_tau_days dan priority.fairness_weeks harus > 0".into());
        }
        if self.coverage_max_age_days <= 0 {
            return Err("priority.coverage_max_age_days harus > 0".into());
        }
        for (k, v) in &self.indicator_weights {
            non_negative(&format!("indicator_weights.{k}"), *v)?;
        }
        for (k, v) in &self.turnout {
            SiteKind::parse(k).map_err(|e| format!("priority.turnout.{k}: {e}"))?;
            unit(&format!("turnout.{k}"), *v)?;
        }
        for d in &self.deadlines {
            non_negative(&format!("deadlines.{}.boost", d.name), d.boost)?;
            if d.horizon_days == 0 {
                return Err(format!(
                    "priority.deadlines.{}: horizon_days harus > 0",
                    d.name
                ));
            }
            for k in &d.kinds {
                SiteKind::parse(k).map_err(|e| format!("priority.deadlines.{}: {e}", d.name))?;
            }
        }
        Ok(())
    }
}

/// Which indicators a kind of site can serve.
pub fn served(kind: SiteKind) -> &'static [&'static str] {
    use SiteKind::*;
    match kind {
        // Students at KTP-el age (and their IKD) and the younger ones' KIA.
        Sma | Smk | Ma => &["ktp_el", "ikd", "kia", "akta_lahir"],
        Paud | Tk | Ra | Sd | Mi | Smp | Mts => &["kia", "akta_lahir"],
        BalaiDesa => &["ktp_el", "ikd", "kia"],
        Slb | Institusi => &["ktp_el", "kia", "akta_lahir", "ikd"],
        Keramaian => &["ikd", "ktp_el"],
    }
}

fn is_vulnerable(kind: SiteKind) -> bool {
    matches!(kind, SiteKind::Slb | SiteKind::Institusi)
}

/// A candidate site.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    pub kind: SiteKind,
    /// Desa/kelurahan where known, else kecamatan.
    pub region: RegionCode,
    pub eligible: BTreeMap<String, i64>,
    /// The site's own count of people not yet served, per indicator (e.g. a school's list).
    pub counts: BTreeMap<String, i64>,
    /// The day of those counts (`None`: every logged delivery at the site is after them).
    pub counts_as_of: Option<NaiveDate>,
    /// Made up by a synthetic data layer (the demo): not a real place.
    pub synthetic: bool,
}

/// A completed visit and what it delivered per indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub site_id: i64,
    pub date: NaiveDate,
    pub delivered: BTreeMap<String, i64>,
    /// Only partly done (`sebagian`): what it delivered counts, but it does not make the site
    /// "recently visited" — the site stays a candidate for a revisit.
    pub revisit: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub indicator: String,
    pub year: i32,
    /// `None`: national default.
    pub region: Option<RegionCode>,
    pub percent: f64,
}

/// Everything the score reads besides the sites.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Region code → name, for the sentences (and to know the tree).
    pub region_names: HashMap<String, String>,
    /// Region code → its children's codes.
    pub children: HashMap<String, Vec<String>>,
    /// Latest snapshot per (region, indicator).
    pub coverage: HashMap<(String, String), (Coverage, NaiveDate)>,
    pub targets: Vec<Target>,
    pub visits: Vec<Visit>,
}

/// Where a site's expected people come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The site's own count.
    Count,
    /// Estimated from the region's coverage figures.
    Estimate,
    /// No coverage figure: nothing is claimed.
    NoData,
}

/// One indicator's share of a site's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Term {
    pub indicator: &'static str,
    pub eligible: i64,
    pub basis: Basis,
    /// The site's own count, when `basis` is `count`, and its date.
    pub count: Option<i64>,
    pub count_as_of: Option<NaiveDate>,
    /// The region whose coverage the estimate used, its coverage and the snapshot date.
    pub coverage_region: Option<Arc<str>>,
    pub coverage_percent: Option<f64>,
    pub coverage_as_of: Option<NaiveDate>,
    /// Days between the snapshot and the reference day; `coverage_old` above the configured age.
    pub coverage_age_days: Option<i64>,
    pub coverage_old: bool,
    pub uncovered_share: f64,
    pub turnout: f64,
    /// Factor applied so that the region's estimates stay within its uncovered people (1 = none).
    pub region_cap: f64,
    /// Delivered at this site since the figure the people come from.
    pub delivered: i64,
    pub expected_people: f64,
    /// The kabupaten/kota whose progress to target a person counts toward.
    pub judged_region: Option<Arc<str>>,
    pub judged_percent: Option<f64>,
    pub target_percent: Option<f64>,
    /// Points below target in the judged region (0 at or above target).
    pub gap_points: f64,
    /// People the judged region still needs to reach its target (0 at or above target).
    pub shortfall: f64,
    /// Basis points of the remaining shortfall one person closes (or the residual above target).
    pub value_per_person: f64,
    pub indicator_weight: f64,
    pub urgency: f64,
    /// Names of the deadlines that raised the urgency.
    pub deadlines: Vec<String>,
    pub vulnerability: f64,
    /// expected_people × value_per_person × indicator_weight × urgency × vulnerability.
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub site_id: i64,
    pub external_id: String,
    pub score: f64,
    pub terms: Vec<Term>,
    pub recency: f64,
    pub fairness: f64,
    pub days_since_visit: Option<i64>,
    pub weeks_since_desa_visit: Option<f64>,
}

impl Scored {
    /// The score rebuilt from its named factors (equal to `score` by construction).
    pub fn recombine(&self) -> f64 {
        recombine(&self.terms, self.recency, self.fairness)
    }

    pub fn expected_people(&self) -> f64 {
        self.terms.iter().map(|t| t.expected_people).sum()
    }

    /// The term that contributes most (ties: the first served indicator); with no value at
    /// all, the one with the most people.
    pub fn main_term(&self) -> Option<&Term> {
        let by = |key: fn(&Term) -> f64| {
            self.terms
                .iter()
                .fold(None, |best: Option<&Term>, t| match best {
                    Some(b) if key(b) >= key(t) => Some(b),
                    _ => Some(t),
                })
        };
        if self.terms.iter().any(|t| t.value > 0.0) {
            by(|t| t.value)
        } else {
            by(|t| t.expected_people)
        }
    }

    /// The score's part per indicator (each term's value × recency × fairness).
    pub fn value_by_indicator(&self) -> BTreeMap<String, f64> {
        self.terms
            .iter()
            .map(|t| {
                (
                    t.indicator.to_string(),
                    t.value * self.recency * self.fairness,
                )
            })
            .collect()
    }
}

fn recombine(terms: &[Term], recency: f64, fairness: f64) -> f64 {
    terms.iter().map(|t| t.value).sum::<f64>() * recency * fairness
}

/// Coverage resolved per (region, indicator): a region's own latest snapshot, else the sum of
/// its children's (recursively), dated by the newest of them.
struct Resolver<'a> {
    facts: &'a Facts,
    year: i32,
    rollups: HashMap<(String, String), Option<(Coverage, NaiveDate)>>,
}

impl Resolver<'_> {
    fn rollup(&mut self, region: &str, indicator: &str) -> Option<(Coverage, NaiveDate)> {
        let key = (region.to_string(), indicator.to_string());
        if let Some(r) = self.rollups.get(&key) {
            return *r;
        }
        let result = match self.facts.coverage.get(&key) {
            Some(own) => Some(*own),
            None => {
                let children = self.facts.children.get(region).cloned().unwrap_or_default();
                let parts: Vec<_> = children
                    .iter()
                    .filter_map(|c| self.rollup(c, indicator))
                    .collect();
                (!parts.is_empty()).then(|| {
                    let date = parts.iter().map(|p| p.1).max().expect("non-empty");
                    (parts.iter().map(|p| p.0).sum(), date)
                })
            }
        };
        self.rollups.insert(key, result);
        result
    }

    /// The finest region in `region`'s lineage with coverage: its own snapshot first, else a
    /// roll-up of snapshots below it.
    fn finest(
        &mut self,
        region: &RegionCode,
        indicator: &str,
    ) -> Option<(String, Coverage, NaiveDate)> {
        let lineage = region.lineage();
        let own = lineage.iter().find_map(|code| {
            self.facts
                .coverage
                .get(&(code.to_string(), indicator.to_string()))
                .map(|(c, d)| (code.to_string(), *c, *d))
        });
        own.or_else(|| {
            lineage.iter().find_map(|code| {
                self.rollup(code.as_str(), indicator)
                    .map(|(c, d)| (code.to_string(), c, d))
            })
        })
    }

    /// The target for `region` (its finest override, else national), latest year up to the
    /// reference year.
    fn target(&self, region: &RegionCode, indicator: &str) -> Option<f64> {
        let lineage = region.lineage();
        let mut scopes: Vec<Option<&RegionCode>> = lineage.iter().map(Some).collect();
        scopes.push(None);
        scopes.iter().find_map(|scope| {
            self.facts
                .targets
                .iter()
                .filter(|t| {
                    t.indicator == indicator && t.year <= self.year && t.region.as_ref() == *scope
                })
                .max_by_key(|t| t.year)
                .map(|t| t.percent)
        })
    }
}

/// Score every site for the week starting `on` and return them best first. Ties are broken by
/// external id, so the order never depends on the order sites were imported in.
pub fn rank(sites: &[Site], facts: &Facts, params: &Params, on: NaiveDate) -> Vec<Scored> {
    let mut scored = score_all(sites, facts, params, on);
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.external_id.cmp(&b.external_id))
    });
    scored
}

/// What a judged region's figures give one person of an indicator.
#[derive(Clone, Copy)]
struct Judged {
    percent: Option<f64>,
    target: Option<f64>,
    gap_points: f64,
    shortfall: f64,
    value_per_person: f64,
}

/// A region code and the codes above it, finest first, as slices of the code itself:
/// "35.09.01.2001", "35.09.01", "35.09", "35".
fn prefixes(code: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(code), |c| c.rfind('.').map(|i| &c[..i]))
}

/// The region codes of one ranking, numbered, so that the per-region bookkeeping of tens of
/// thousands of sites works on small integers rather than strings.
#[derive(Default)]
struct Codes<'a> {
    ids: HashMap<&'a str, u32>,
    codes: Vec<&'a str>,
    /// The same codes as shared strings, for the terms that name them.
    shared: Vec<Arc<str>>,
    /// Dots in the code: 0 province, 1 kabupaten/kota, 2 kecamatan, 3 desa.
    depth: Vec<u8>,
}

impl<'a> Codes<'a> {
    fn id(&mut self, code: &'a str) -> u32 {
        if let Some(&id) = self.ids.get(code) {
            return id;
        }
        let id = self.codes.len() as u32;
        self.ids.insert(code, id);
        self.codes.push(code);
        self.shared.push(Arc::from(code));
        self.depth
            .push(code.bytes().filter(|b| *b == b'.').count() as u8);
        id
    }
}

impl Codes<'_> {
    fn shared(&self, id: u32) -> Arc<str> {
        self.shared[id as usize].clone()
    }
}

/// The indicators a site can serve (see [`served`]), numbered for per-region tables.
const INDICATORS: [&str; 4] = ["ktp_el", "kia", "akta_lahir", "ikd"];

fn indicator_index(indicator: &str) -> Option<usize> {
    INDICATORS.iter().position(|i| *i == indicator)
}

/// One value per (region, indicator), indexed by the region's number.
struct PerRegion<T> {
    cells: Vec<T>,
}

impl<T: Default + Clone> PerRegion<T> {
    fn new(regions: usize) -> Self {
        PerRegion {
            cells: vec![T::default(); regions * INDICATORS.len()],
        }
    }

    fn at(&mut self, region: u32, indicator: usize) -> &mut T {
        &mut self.cells[region as usize * INDICATORS.len() + indicator]
    }

    fn get(&self, region: u32, indicator: usize) -> &T {
        &self.cells[region as usize * INDICATORS.len() + indicator]
    }
}

/// What visits delivered per (region, indicator) for every region above a visited site.
type Deliveries = PerRegion<Vec<(NaiveDate, i64)>>;

fn delivered_in(deliveries: &Deliveries, region: u32, indicator: usize, after: NaiveDate) -> i64 {
    deliveries
        .get(region, indicator)
        .iter()
        .filter(|(d, _)| *d > after)
        .map(|(_, n)| n)
        .sum()
}

/// The finest coverage figure for a (region, indicator): its region's number, the figure and its
/// date; `None` inside until worked out.
type Finest = Option<Option<(u32, Coverage, NaiveDate)>>;

pub fn score_all(sites: &[Site], facts: &Facts, params: &Params, on: NaiveDate) -> Vec<Scored> {
    use chrono::Datelike;
    let mut resolver = Resolver {
        facts,
        year: on.year(),
        rollups: HashMap::new(),
    };
    let mut codes = Codes::default();
    // Each site's region and the regions above it, by number, finest first.
    let lineage: Vec<Vec<u32>> = sites
        .iter()
        .map(|s| prefixes(s.region.as_str()).map(|c| codes.id(c)).collect())
        .collect();
    let n_codes = codes.codes.len();
    let index_of: HashMap<i64, usize> = sites.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    // Visits up to the reference day, per site, per desa (for fairness) and per region.
    let mut visits_by_site: HashMap<i64, Vec<&Visit>> = HashMap::new();
    let mut last_in_region: HashMap<u32, NaiveDate> = HashMap::new();
    let mut deliveries: Deliveries = PerRegion::new(n_codes);
    for v in facts.visits.iter().filter(|v| v.date <= on) {
        visits_by_site.entry(v.site_id).or_default().push(v);
        let Some(&i) = index_of.get(&v.site_id) else {
            continue;
        };
        let e = last_in_region.entry(lineage[i][0]).or_insert(v.date);
        *e = (*e).max(v.date);
        for (indicator, n) in &v.delivered {
            let Some(ind) = indicator_index(indicator) else {
                continue;
            };
            for &region in &lineage[i] {
                deliveries.at(region, ind).push((v.date, *n));
            }
        }
    }
    // Worked out once per (region, indicator): the finest coverage figure, and what one person
    // is worth in the judged region.
    let mut finest: PerRegion<Finest> = PerRegion::new(n_codes);
    let mut judged: PerRegion<Option<Judged>> = PerRegion::new(n_codes);
    let mut scored: Vec<Scored> = Vec::with_capacity(sites.len());
    for (si, site) in sites.iter().enumerate() {
        let site_visits = visits_by_site
            .get(&site.id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let turnout = params
            .turnout
            .get(site.kind.as_str())
            .copied()
            .unwrap_or(1.0);
        let vulnerability = if is_vulnerable(site.kind) {
            params.vulnerability_weight
        } else {
            1.0
        };
        // The kabupaten/kota above the site (the office's unit), else the coarsest region.
        let judged_id = lineage[si]
            .iter()
            .copied()
            .find(|&id| codes.depth[id as usize] == 1)
            .unwrap_or(lineage[si][lineage[si].len() - 1]);
        let judged_code = codes.codes[judged_id as usize];
        let mut terms = Vec::new();
        for &indicator in served(site.kind) {
            let eligible = site.eligible.get(indicator).copied().unwrap_or(0);
            let count = site.counts.get(indicator).copied();
            if eligible <= 0 && count.is_none() {
                continue;
            }
            let ind = indicator_index(indicator).expect("served indicators are numbered");
            let delivered_since = |after: Option<NaiveDate>| -> i64 {
                site_visits
                    .iter()
                    .filter(|v| after.is_none_or(|d| v.date > d))
                    .filter_map(|v| v.delivered.get(indicator))
                    .sum()
            };
            let coverage = *finest.at(lineage[si][0], ind).get_or_insert_with(|| {
                resolver
                    .finest(&site.region, indicator)
                    .map(|(code, c, d)| {
                        let id = prefixes(site.region.as_str())
                            .zip(&lineage[si])
                            .find(|(p, _)| *p == code)
                            .map(|(_, id)| *id)
                            .unwrap_or(lineage[si][0]);
                        (id, c, d)
                    })
            });
            let percent = coverage
                .as_ref()
                .and_then(|(_, c, _)| c.percent())
                .map(|p| p.min(100.0));
            let as_of = coverage.as_ref().map(|(_, _, d)| *d);
            let age = as_of.map(|d| (on - d).num_days());
            // Uncovered ÷ eligible of the figure (not 1 − percent: the people are counts).
            let share_of = |people: f64| {
                coverage
                    .as_ref()
                    .filter(|(_, c, _)| c.eligible > 0)
                    .map(|(_, c, _)| people * c.uncovered() as f64 / c.eligible as f64)
                    .unwrap_or(0.0)
            };
            let uncovered_share = share_of(1.0);
            let (basis, delivered, expected_people) = match count {
                Some(n) => {
                    let delivered = delivered_since(site.counts_as_of);
                    (Basis::Count, delivered, (n - delivered).max(0) as f64)
                }
                None if coverage.is_some() => {
                    let delivered = delivered_since(as_of);
                    let raw = share_of(eligible as f64) * turnout;
                    (
                        Basis::Estimate,
                        delivered,
                        (raw - delivered as f64).max(0.0),
                    )
                }
                None => (Basis::NoData, 0, 0.0),
            };
            let j = *judged.at(judged_id, ind).get_or_insert_with(|| {
                judge(&mut resolver, judged_code, indicator, params, |after| {
                    delivered_in(&deliveries, judged_id, ind, after)
                })
            });
            let mut urgency = 1.0;
            let mut deadlines = Vec::new();
            for d in &params.deadlines {
                let applies = (d.indicators.is_empty()
                    || d.indicators.iter().any(|i| i == indicator))
                    && (d.kinds.is_empty() || d.kinds.iter().any(|k| k == site.kind.as_str()));
                let days_left = (d.date - on).num_days();
                if applies && (0..=i64::from(d.horizon_days)).contains(&days_left) {
                    urgency += d.boost * (1.0 - days_left as f64 / f64::from(d.horizon_days));
                    deadlines.push(d.name.clone());
                }
            }
            let indicator_weight = params
                .indicator_weights
                .get(indicator)
                .copied()
                .unwrap_or(1.0);
            terms.push(Term {
                indicator,
                eligible,
                basis,
                count,
                count_as_of: count.and(site.counts_as_of),
                coverage_region: coverage.as_ref().map(|(r, _, _)| codes.shared(*r)),
                coverage_percent: percent,
                coverage_as_of: as_of,
                coverage_age_days: age,
                coverage_old: age.is_some_and(|a| a > params.coverage_max_age_days),
                uncovered_share,
                turnout: if basis == Basis::Estimate {
                    turnout
                } else {
                    1.0
                },
                region_cap: 1.0,
                delivered,
                expected_people,
                judged_region: Some(codes.shared(judged_id)),
                judged_percent: j.percent,
                target_percent: j.target,
                gap_points: j.gap_points,
                shortfall: j.shortfall,
                value_per_person: j.value_per_person,
                indicator_weight,
                urgency,
                deadlines,
                vulnerability,
                value: 0.0,
            });
        }
        let last_visit = site_visits
            .iter()
            .filter(|v| !v.revisit)
            .map(|v| v.date)
            .max();
        let days_since_visit = last_visit.map(|d| (on - d).num_days());
        let recency = days_since_visit
            .map(|d| {
                1.0 - params.recency_max_penalty * (-(d as f64) / params.recency_tau_days).exp()
            })
            .unwrap_or(1.0);
        let weeks_since_desa_visit = last_in_region
            .get(&lineage[si][0])
            .map(|d| (on - *d).num_days() as f64 / 7.0);
        let fairness = 1.0
            + params.fairness_max_boost
                * weeks_since_desa_visit
                    .map(|w| (w / params.fairness_weeks).min(1.0))
                    .unwrap_or(1.0);
        scored.push(Scored {
            site_id: site.id,
            external_id: site.external_id.clone(),
            score: 0.0,
            terms,
            recency,
            fairness,
            days_since_visit,
            weeks_since_desa_visit,
        });
    }
    cap_to_regions(
        sites,
        &lineage,
        &codes,
        &mut scored,
        &mut resolver,
        &deliveries,
    );
    for s in &mut scored {
        for t in &mut s.terms {
            t.value = t.expected_people
                * t.value_per_person
                * t.indicator_weight
                * t.urgency
                * t.vulnerability;
        }
        s.score = recombine(&s.terms, s.recency, s.fairness);
    }
    scored
}

/// The judged region's figures for one indicator: how far from target, and what one person is
/// worth there.
fn judge(
    resolver: &mut Resolver<'_>,
    region: &str,
    indicator: &str,
    params: &Params,
    delivered_after: impl Fn(NaiveDate) -> i64,
) -> Judged {
    let target = RegionCode::parse(region)
        .ok()
        .and_then(|r| resolver.target(&r, indicator));
    let Some((coverage, as_of)) = resolver.rollup(region, indicator) else {
        return Judged {
            percent: None,
            target,
            gap_points: 0.0,
            shortfall: 0.0,
            value_per_person: 0.0,
        };
    };
    let holders = coverage.holders + delivered_after(as_of);
    let eligible = coverage.eligible as f64;
    let now = Coverage {
        eligible: coverage.eligible,
        holders,
    };
    let percent = now.percent().map(|p| p.min(100.0));
    // Whole people: the holders the target needs, less those there are.
    let shortfall = target
        .map(|t| ((t / 100.0 * eligible - 1e-6).ceil() - holders as f64).max(0.0))
        .unwrap_or(0.0);
    let uncovered = now.uncovered() as f64;
    let value_per_person = if shortfall >= 1.0 {
        10_000.0 / shortfall
    } else if uncovered >= 1.0 {
        params.above_target_weight * 10_000.0 / uncovered
    } else {
        0.0
    };
    Judged {
        percent,
        target,
        gap_points: match (percent, target) {
            (Some(p), Some(t)) if t > p => t - p,
            _ => 0.0,
        },
        shortfall,
        value_per_person,
    }
}

/// Scale estimates down, finest region first, wherever a region's sites would claim more
/// people than the region has uncovered (less what was delivered there since its figure and
/// what the sites with their own counts claim).
fn cap_to_regions(
    sites: &[Site],
    lineage: &[Vec<u32>],
    codes: &Codes<'_>,
    scored: &mut [Scored],
    resolver: &mut Resolver<'_>,
    deliveries: &Deliveries,
) {
    // (region, indicator) → the (site, term) estimates and the own counts inside it.
    let mut members: PerRegion<(Vec<(u32, u8)>, f64)> = PerRegion::new(codes.codes.len());
    for (si, s) in scored.iter().enumerate() {
        for (ti, t) in s.terms.iter().enumerate() {
            let Some(ind) = indicator_index(t.indicator) else {
                continue;
            };
            for &region in &lineage[si] {
                let entry = members.at(region, ind);
                match t.basis {
                    Basis::Estimate => entry.0.push((si as u32, ti as u8)),
                    Basis::Count => entry.1 += t.expected_people,
                    Basis::NoData => {}
                }
            }
        }
    }
    // Deepest regions first; sums run in external-id order, so the result never depends on the
    // order the sites came in.
    let mut by_external_id: Vec<u32> = (0..sites.len() as u32).collect();
    by_external_id.sort_by(|a, b| {
        sites[*a as usize]
            .external_id
            .cmp(&sites[*b as usize].external_id)
    });
    let mut place = vec![0u32; sites.len()];
    for (rank, &si) in by_external_id.iter().enumerate() {
        place[si as usize] = rank as u32;
    }
    let mut regions: Vec<u32> = (0..codes.codes.len() as u32).collect();
    regions.sort_by(|a, b| {
        codes.depth[*b as usize]
            .cmp(&codes.depth[*a as usize])
            .then_with(|| codes.codes[*a as usize].cmp(codes.codes[*b as usize]))
    });
    for region in regions {
        for (ind, indicator) in INDICATORS.iter().enumerate() {
            let (mut estimates, counted) = std::mem::take(members.at(region, ind));
            if estimates.is_empty() {
                continue;
            }
            let Some((coverage, as_of)) = resolver.rollup(codes.codes[region as usize], indicator)
            else {
                continue;
            };
            estimates.sort_by_key(|(si, _)| place[*si as usize]);
            let delivered = delivered_in(deliveries, region, ind, as_of);
            let pool = ((coverage.uncovered() - delivered).max(0) as f64 - counted).max(0.0);
            let claimed: f64 = estimates
                .iter()
                .map(|&(si, ti)| scored[si as usize].terms[ti as usize].expected_people)
                .sum();
            if claimed > pool {
                let factor = if claimed > 0.0 { pool / claimed } else { 0.0 };
                for (si, ti) in estimates {
                    let t = &mut scored[si as usize].terms[ti as usize];
                    t.expected_people *= factor;
                    t.region_cap *= factor;
                }
            }
        }
    }
}

/// Parse an ISO week `2026-W48` (strictly: see `domain::Week`) into its Monday.
pub fn parse_iso_week(s: &str) -> Result<NaiveDate, String> {
    crate::domain::Week::parse(s).map(crate::domain::Week::monday)
}

/// The ISO week after the one containing `today`.
pub fn next_week(today: NaiveDate) -> String {
    crate::domain::Week::after(today).to_string()
}

#[cfg(test)]
mod tests;
