//! Solving a week whose coordinator set a share of team time per indicator (pure).
//!
//! Shares are met through the prizes, not by a new constraint: each indicator's part of every
//! visit's priority is multiplied by a weight, the week is solved, the share of team time each
//! indicator got is measured, and the weights move toward the targets (an indicator short of its
//! share weighs more). A few short probes find the weights; the final solve uses the rest of the
//! time limit with the best of them. Deterministic: every solve is seeded and budgeted in ticks.

use std::collections::BTreeMap;
use std::time::Duration;

use super::problem::{Instance, Plan, Problem, ProblemError};
use super::search::{Options, Outcome, solve};
use super::week::{VisitSpec, round2};

/// Points (percent of team time) within which a share counts as met.
pub const TOLERANCE: f64 = 5.0;
const PROBES: usize = 6;

pub struct Solved {
    pub problem: Problem,
    /// The instance as solved: its priorities carry the final weights.
    pub instance: Instance,
    pub outcome: Outcome,
    /// Weight per indicator (1 for all without shares).
    pub weights: BTreeMap<String, f64>,
}

/// Minutes of team time per indicator in a plan: each visit's minutes on site split over its
/// indicators in proportion to their work with the team that serves it.
pub fn minutes_by_indicator(plan: &Plan, visits: &[VisitSpec]) -> BTreeMap<String, f64> {
    let by_key: std::collections::HashMap<&str, &VisitSpec> =
        visits.iter().map(|v| (v.key.as_str(), v)).collect();
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for route in &plan.routes {
        let Ok(team) = route.team.parse::<i64>() else {
            continue;
        };
        for stop in &route.stops {
            if let Some(v) = by_key.get(stop.site.as_str()) {
                for (ind, min) in v.minutes_by_indicator(team) {
                    *out.entry(ind).or_default() += min;
                }
            }
        }
    }
    out
}

/// Percent of the plan's time on site per indicator.
pub fn shares_of(minutes: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    let total: f64 = minutes.values().sum();
    minutes
        .iter()
        .map(|(k, m)| (k.clone(), if total > 0.0 { 100.0 * m / total } else { 0.0 }))
        .collect()
}

/// The largest distance, in points, between a plan's shares and the targets.
pub fn deviation(actual: &BTreeMap<String, f64>, targets: &BTreeMap<String, f64>) -> f64 {
    targets
        .iter()
        .map(|(k, t)| (actual.get(k).copied().unwrap_or(0.0) - t).abs())
        .fold(0.0, f64::max)
}

type Weights = BTreeMap<String, f64>;
/// A solved week: the weighted instance, its problem and the outcome.
type Run = (Instance, Problem, Outcome);

fn weigh(instance: &mut Instance, visits: &[VisitSpec], weights: &BTreeMap<String, f64>) {
    let by_key: std::collections::HashMap<&str, &VisitSpec> =
        visits.iter().map(|v| (v.key.as_str(), v)).collect();
    for site in &mut instance.sites {
        if let Some(v) = by_key.get(site.id.as_str()) {
            let p: f64 = v
                .value
                .iter()
                .map(|(k, x)| x * weights.get(k).copied().unwrap_or(1.0))
                .sum();
            site.priority = round2(p);
        }
    }
}

/// One search with `weights`. `base` is the problem of `instance` (weights aside): only the
/// prizes differ between runs, so its travel matrix and windows are reused.
fn run(
    base: &Problem,
    instance: &Instance,
    visits: &[VisitSpec],
    weights: &BTreeMap<String, f64>,
    seconds: f64,
    seed: u64,
) -> Result<Run, ProblemError> {
    let mut weighted = instance.clone();
    weigh(&mut weighted, visits, weights);
    let problem = base.with_prizes_of(&weighted);
    let outcome = solve(
        &problem,
        &Options::new(Duration::from_secs_f64(seconds.max(0.05)), seed),
    );
    Ok((weighted, problem, outcome))
}

/// Solve the week; with `targets` (indicator → percent of team time), steer the weights until
/// the plan's shares are within [`TOLERANCE`] or the probes run out, then spend the rest of the
/// time limit on the best weights found.
pub fn solve_week(
    instance: &Instance,
    visits: &[VisitSpec],
    targets: &BTreeMap<String, f64>,
    time_limit_s: f64,
    seed: u64,
) -> Result<Solved, ProblemError> {
    let mut weights: BTreeMap<String, f64> = visits
        .iter()
        .flat_map(|v| v.value.keys().cloned())
        .map(|k| (k, 1.0))
        .collect();
    let base = Problem::from_instance(instance)?;
    let run = |weights: &BTreeMap<String, f64>, seconds: f64| {
        run(&base, instance, visits, weights, seconds, seed)
    };
    if targets.is_empty() {
        let (instance, problem, outcome) = run(&weights, time_limit_s)?;
        return Ok(Solved {
            problem,
            instance,
            outcome,
            weights,
        });
    }
    let probe_s = time_limit_s / (2.0 * PROBES as f64);
    let mut damping: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut best: Option<(f64, Weights, Run)> = None;
    for _ in 0..PROBES {
        let solved = run(&weights, probe_s)?;
        let actual = shares_of(&minutes_by_indicator(&solved.2.plan, visits));
        let off = deviation(&actual, targets);
        let better = best.as_ref().is_none_or(|(b, _, _)| off < *b);
        if better {
            best = Some((off, weights.clone(), solved));
        }
        if off <= TOLERANCE / 2.0 {
            break;
        }
        // An indicator below its share weighs more, one above it less, by the ratio of target
        // to share; a ratio that changed side since the last probe overshot, so that
        // indicator's steps are halved (in the exponent) from then on. Indicators without a
        // share only ever weigh less, and only when together they take more than the rest.
        for (k, t) in targets {
            let have = actual.get(k).copied().unwrap_or(0.0);
            let side = (*t - have).signum();
            let (gain, last) = damping.entry(k.clone()).or_insert((1.0, side));
            if side != *last {
                *gain *= 0.5;
                *last = side;
            }
            let step = (t.max(0.5) / have.max(0.5)).powf(*gain).clamp(0.5, 2.0);
            if let Some(w) = weights.get_mut(k) {
                *w = (*w * step).clamp(1e-3, 1e3);
            }
        }
        let free = 100.0 - targets.values().sum::<f64>();
        let free_now: f64 = actual
            .iter()
            .filter(|(k, _)| !targets.contains_key(*k))
            .map(|(_, v)| v)
            .sum();
        if free_now > free + TOLERANCE / 2.0 {
            let step = (free.max(0.5) / free_now).sqrt().clamp(0.5, 1.0);
            for (k, w) in weights.iter_mut() {
                if !targets.contains_key(k) {
                    *w = (*w * step).clamp(1e-3, 1e3);
                }
            }
        }
    }
    let (probe_off, best_weights, probe) = best.expect("at least one probe ran");
    let remaining = time_limit_s - probe_s * PROBES as f64;
    let last = run(&best_weights, remaining)?;
    let last_off = deviation(
        &shares_of(&minutes_by_indicator(&last.2.plan, visits)),
        targets,
    );
    // The longer solve keeps the probe's weights; if its shares drifted further, the probe wins.
    let (instance, problem, outcome) = if last_off <= TOLERANCE.max(probe_off) {
        last
    } else {
        probe
    };
    Ok(Solved {
        problem,
        instance,
        outcome,
        weights: best_weights,
    })
}
