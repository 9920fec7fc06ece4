//! Explainable coverage-gap priorities (pure: no database, no HTTP).
//!
//! For one reference day (the Monday of the planned week) every candidate site gets a score:
//!
//! ```text
//! score = Σ over the indicators the site serves of
//!           expected people × gap weight × indicator weight × urgency × vulnerability
//!         × recency × fairness
//! ```
//!
//! - *expected people* = eligible × uncovered share × turnout − delivered: the site's eligible
//!   estimate, times the share still uncovered in the finest region with coverage (desa →
//!   kecamatan → kabupaten; for school cohorts at least `cohort_min_uncovered`), times the share
//!   who come (1 at schools), minus what visits logged at this site after that snapshot delivered;
//! - *gap weight* = (target − coverage) / (100 − coverage), in [0, 1]: the share of the region's
//!   uncovered people who are needed to reach the target; zero at or above target. Together with
//!   the uncovered share it makes the term "this site's part of the people missing to the target";
//! - *urgency* = 1 + Σ boost × (1 − days left / horizon) over configured deadlines within reach;
//! - *recency* = 1 − max_penalty × e^(−days since the site's last visit / τ) (1 if never visited);
//! - *fairness* = 1 + max_boost × min(1, weeks since any visit in the site's desa / N weeks).
//!
//! Travel is deliberately not in the score: the planner trades it off.

mod explain;

pub use explain::{Language, explain};

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::coverage::Coverage;
use crate::domain::{RegionCode, SiteKind};

/// Scoring parameters; defaults and their reasons are in `config/default.toml` `[priority]`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub indicator_weights: BTreeMap<String, f64>,
    pub cohort_min_uncovered: BTreeMap<String, f64>,
    pub turnout: BTreeMap<String, f64>,
    pub vulnerability_weight: f64,
    pub recency_max_penalty: f64,
    pub recency_tau_days: f64,
    pub fairness_weeks: f64,
    pub fairness_max_boost: f64,
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
        non_negative("fairness_max_boost", self.fairness_max_boost)?;
        non_negative("vulnerability_weight", self.vulnerability_weight)?;
        if self.recency_tau_days <= 0.0 || self.fairness_weeks <= 0.0 {
            return Err("priority.recency_tau_days dan priority.fairness_weeks harus > 0".into());
        }
        for (k, v) in &self.indicator_weights {
            non_negative(&format!("indicator_weights.{k}"), *v)?;
        }
        for (k, v) in &self.cohort_min_uncovered {
            unit(&format!("cohort_min_uncovered.{k}"), *v)?;
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

/// Which indicators a kind of site can serve, and whether the site's eligible people are a school
/// cohort (their uncovered share is at least `cohort_min_uncovered`, not the population average).
pub fn served(kind: SiteKind) -> (&'static [&'static str], bool) {
    use SiteKind::*;
    match kind {
        Sma | Smk | Ma => (&["ktp_el", "ikd"], true),
        Paud | Tk | Ra | Sd | Mi | Smp | Mts => (&["kia", "akta_lahir"], true),
        BalaiDesa => (&["ktp_el", "ikd", "kia"], false),
        Slb | Institusi => (&["ktp_el", "kia", "akta_lahir", "ikd"], false),
        Keramaian => (&["ikd", "ktp_el"], false),
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

/// One indicator's share of a site's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Term {
    pub indicator: String,
    pub eligible: i64,
    /// The region whose coverage was used, its coverage and the snapshot date.
    pub coverage_region: Option<String>,
    pub coverage_percent: Option<f64>,
    pub coverage_as_of: Option<NaiveDate>,
    pub uncovered_share: f64,
    pub turnout: f64,
    pub delivered: i64,
    pub expected_people: f64,
    pub target_percent: Option<f64>,
    pub gap_points: f64,
    pub gap_weight: f64,
    pub indicator_weight: f64,
    pub urgency: f64,
    /// Names of the deadlines that raised the urgency.
    pub deadlines: Vec<String>,
    pub vulnerability: f64,
    /// expected_people × gap_weight × indicator_weight × urgency × vulnerability.
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

    /// The term that contributes most (ties: the first served indicator).
    pub fn main_term(&self) -> Option<&Term> {
        self.terms
            .iter()
            .fold(None, |best: Option<&Term>, t| match best {
                Some(b) if b.value >= t.value => Some(b),
                _ => Some(t),
            })
    }
}

fn recombine(terms: &[Term], recency: f64, fairness: f64) -> f64 {
    terms.iter().map(|t| t.value).sum::<f64>() * recency * fairness
}

/// Coverage and target resolved once per (region, indicator).
#[derive(Clone)]
struct Resolved {
    coverage: Option<(String, Coverage, NaiveDate)>,
    target: Option<f64>,
}

struct Resolver<'a> {
    facts: &'a Facts,
    year: i32,
    cache: HashMap<(&'a str, &'a str), Resolved>,
    rollups: HashMap<(String, String), Option<(Coverage, NaiveDate)>>,
}

impl<'a> Resolver<'a> {
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

    fn resolve(&mut self, region: &'a RegionCode, indicator: &'a str) -> Resolved {
        if let Some(r) = self.cache.get(&(region.as_str(), indicator)) {
            return r.clone();
        }
        let lineage = region.lineage();
        // Finest own snapshot first; otherwise the finest roll-up of snapshots below an ancestor.
        let own = lineage.iter().find_map(|code| {
            self.facts
                .coverage
                .get(&(code.to_string(), indicator.to_string()))
                .map(|(c, d)| (code.to_string(), *c, *d))
        });
        let coverage = own.or_else(|| {
            lineage.iter().find_map(|code| {
                self.rollup(code.as_str(), indicator)
                    .map(|(c, d)| (code.to_string(), c, d))
            })
        });
        let mut scopes: Vec<Option<&RegionCode>> = lineage.iter().map(Some).collect();
        scopes.push(None);
        let target = scopes.iter().find_map(|scope| {
            self.facts
                .targets
                .iter()
                .filter(|t| {
                    t.indicator == indicator && t.year <= self.year && t.region.as_ref() == *scope
                })
                .max_by_key(|t| t.year)
                .map(|t| t.percent)
        });
        let r = Resolved { coverage, target };
        self.cache.insert((region.as_str(), indicator), r.clone());
        r
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

pub fn score_all(sites: &[Site], facts: &Facts, params: &Params, on: NaiveDate) -> Vec<Scored> {
    use chrono::Datelike;
    let mut resolver = Resolver {
        facts,
        year: on.year(),
        cache: HashMap::new(),
        rollups: HashMap::new(),
    };
    // Visits up to the reference day, per site and per region (for fairness).
    let region_of: HashMap<i64, &str> = sites.iter().map(|s| (s.id, s.region.as_str())).collect();
    let mut visits_by_site: HashMap<i64, Vec<&Visit>> = HashMap::new();
    let mut last_in_region: HashMap<&str, NaiveDate> = HashMap::new();
    for v in facts.visits.iter().filter(|v| v.date <= on) {
        visits_by_site.entry(v.site_id).or_default().push(v);
        if let Some(region) = region_of.get(&v.site_id) {
            let e = last_in_region.entry(region).or_insert(v.date);
            *e = (*e).max(v.date);
        }
    }
    sites
        .iter()
        .map(|site| {
            let visits = visits_by_site
                .get(&site.id)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            score_site(
                site,
                visits,
                last_in_region.get(site.region.as_str()).copied(),
                &mut resolver,
                params,
                on,
            )
        })
        .collect()
}

fn score_site<'a>(
    site: &'a Site,
    visits: &[&Visit],
    last_region_visit: Option<NaiveDate>,
    resolver: &mut Resolver<'a>,
    params: &Params,
    on: NaiveDate,
) -> Scored {
    let (indicators, cohort) = served(site.kind);
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
    let mut terms = Vec::with_capacity(indicators.len());
    for &indicator in indicators {
        let Some(&eligible) = site.eligible.get(indicator) else {
            continue;
        };
        let resolved = resolver.resolve(&site.region, indicator);
        let percent = resolved
            .coverage
            .as_ref()
            .and_then(|(_, c, _)| c.percent())
            .map(|p| p.min(100.0));
        let population_uncovered = percent.map(|p| 1.0 - p / 100.0).unwrap_or(1.0);
        let floor = if cohort {
            params
                .cohort_min_uncovered
                .get(indicator)
                .copied()
                .unwrap_or(0.0)
        } else {
            0.0
        };
        let uncovered_share = population_uncovered.max(floor);
        let as_of = resolved.coverage.as_ref().map(|(_, _, d)| *d);
        // What visits since the snapshot delivered is not yet in the coverage figures.
        let delivered: i64 = visits
            .iter()
            .filter(|v| as_of.is_none_or(|d| v.date > d))
            .filter_map(|v| v.delivered.get(indicator))
            .sum();
        let expected_people =
            (eligible as f64 * uncovered_share * turnout - delivered as f64).max(0.0);
        let (gap_points, gap_weight) = match (percent, resolved.target) {
            (Some(p), Some(t)) if t > p => (
                t - p,
                if p < 100.0 {
                    (t - p) / (100.0 - p)
                } else {
                    0.0
                },
            ),
            (None, Some(_)) => (0.0, 1.0), // no coverage known anywhere above: treat as fully uncovered
            _ => (0.0, 0.0),
        };
        let mut urgency = 1.0;
        let mut deadlines = Vec::new();
        for d in &params.deadlines {
            let applies = (d.indicators.is_empty() || d.indicators.iter().any(|i| i == indicator))
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
        let value = expected_people * gap_weight * indicator_weight * urgency * vulnerability;
        terms.push(Term {
            indicator: indicator.to_string(),
            eligible,
            coverage_region: resolved.coverage.as_ref().map(|(r, _, _)| r.clone()),
            coverage_percent: percent,
            coverage_as_of: as_of,
            uncovered_share,
            turnout,
            delivered,
            expected_people,
            target_percent: resolved.target,
            gap_points,
            gap_weight,
            indicator_weight,
            urgency,
            deadlines,
            vulnerability,
            value,
        });
    }
    let last_visit = visits.iter().filter(|v| !v.revisit).map(|v| v.date).max();
    let days_since_visit = last_visit.map(|d| (on - d).num_days());
    let recency = days_since_visit
        .map(|d| 1.0 - params.recency_max_penalty * (-(d as f64) / params.recency_tau_days).exp())
        .unwrap_or(1.0);
    let weeks_since_desa_visit = last_region_visit.map(|d| (on - d).num_days() as f64 / 7.0);
    let fairness = 1.0
        + params.fairness_max_boost
            * weeks_since_desa_visit
                .map(|w| (w / params.fairness_weeks).min(1.0))
                .unwrap_or(1.0);
    let score = recombine(&terms, recency, fairness);
    Scored {
        site_id: site.id,
        external_id: site.external_id.clone(),
        score,
        terms,
        recency,
        fairness,
        days_since_visit,
        weeks_since_desa_visit,
    }
}

/// Parse an ISO week `2026-W48` into its Monday.
pub fn parse_iso_week(s: &str) -> Result<NaiveDate, String> {
    let bad = || format!("minggu harus berformat YYYY-Www (contoh 2026-W48), bukan {s:?}");
    let (year, week) = s.trim().split_once("-W").ok_or_else(bad)?;
    let (year, week): (i32, u32) = (
        year.parse().map_err(|_| bad())?,
        week.parse().map_err(|_| bad())?,
    );
    NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon).ok_or_else(bad)
}

/// The ISO week after the one containing `today`.
pub fn next_week(today: NaiveDate) -> String {
    use chrono::Datelike;
    let next = today + chrono::Duration::days(7);
    let w = next.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

#[cfg(test)]
mod tests;
