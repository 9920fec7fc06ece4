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

mod score;
pub use score::score_all;

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
        Slb | Institusi | Panti | KomunitasTerpencil => &["ktp_el", "kia", "akta_lahir", "ikd"],
        // Inmates are adults; patients of a psychiatric hospital are recorded, not activated on
        // a phone they do not hold.
        Lapas => &["ktp_el", "ikd", "akta_lahir"],
        Rsj => &["ktp_el", "akta_lahir"],
        Keramaian => &["ikd", "ktp_el"],
        Kantor => &["ktp_el", "ikd", "kia", "akta_lahir"],
    }
}

fn is_vulnerable(kind: SiteKind) -> bool {
    kind.is_vulnerable()
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
    /// What the percent is a share of: the indicator's own eligible people, or KTP-el holders.
    pub basis: crate::domain::coverage::TargetBasis,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Term {
    pub indicator: &'static str,
    pub eligible: i64,
    pub basis: Basis,
    /// The site's own count, when `basis` is `count`, and its date.
    pub count: Option<i64>,
    pub count_as_of: Option<NaiveDate>,
    /// The region whose coverage the estimate used, its coverage and the snapshot date.
    #[schema(value_type = Option<String>)]
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
    #[schema(value_type = Option<String>)]
    pub judged_region: Option<Arc<str>>,
    pub judged_percent: Option<f64>,
    pub target_percent: Option<f64>,
    /// What the target is a share of: `eligible` (the indicator's own people, e.g. wajib KTP)
    /// or `ktp_el` (KTP-el holders); the judged percent is counted the same way.
    #[schema(example = "eligible")]
    pub target_basis: &'static str,
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
