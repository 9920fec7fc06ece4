//! Making one plan version, in three steps: [`prepare`] the week (ranking, teams, pins, what a
//! re-plan keeps), [`search`] it on the heavy-work queue, and [`store`] the result with the
//! reasons for what was left out.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{
    Base, Changes, EXPLAINED, PlanError, PlanOptions, answers, apply_pins, candidate_inputs,
    clock_text, consumables, count_changes, explain_unserved, kabupaten_of, keep_completed,
    remainders, route_legs, stored_stops, team_inputs, visit_key,
};
use crate::domain::{RegionCode, WeeklyHours};
use crate::planner;
use crate::planner::week::{self, CandidateInput, TeamInput, WeekSettings};
use crate::services::ranking::{Ranker, Ranking};
use crate::store::plans::Stop;
use crate::store::{Db, plans};

/// A plan version from `base` (a re-plan) or from nothing, stored as a draft.
#[allow(clippy::too_many_arguments)]
pub(super) async fn make_plan(
    db: &Db,
    ranker: &Ranker,
    settings: &WeekSettings,
    region: &RegionCode,
    week_label: &str,
    options: &PlanOptions,
    base: Option<Base>,
) -> Result<(i64, Changes), PlanError> {
    let mut settings = settings.for_region(region);
    if let Some(shares) = &options.shares {
        week::validate_shares(shares).map_err(|e| PlanError::BadRequest(format!("shares: {e}")))?;
        settings.shares = shares.clone();
    }
    let prep = prepare(
        db,
        ranker,
        &settings,
        region,
        week_label,
        options,
        base.as_ref(),
    )
    .await?;
    let found = search(ranker, &settings, options, &prep).await?;
    store(db, region, &settings, base.as_ref(), &prep, found).await
}

/// Everything the search needs, and what storing its result needs to know about the week.
pub(super) struct Prepared<'b> {
    kabupaten: RegionCode,
    ranking: Arc<Ranking>,
    teams: Vec<TeamInput>,
    /// Visits of the base plan that stay as they were (their day was worked, or logged).
    completed: Vec<&'b Stop>,
    candidates: usize,
    built: week::Week,
    /// The places' answers to their notices, and the instance ids of the visits pinned to a
    /// day a place proposed (their conflicts are notes, not errors).
    answers: answers::AnswerFacts,
    soft_pins: HashSet<String>,
}

/// Rank the region, choose the candidates, build the week and carry over what a re-plan keeps.
async fn prepare<'b>(
    db: &Db,
    ranker: &Ranker,
    settings: &WeekSettings,
    region: &RegionCode,
    week_label: &str,
    options: &PlanOptions,
    base: Option<&'b Base>,
) -> Result<Prepared<'b>, PlanError> {
    let kabupaten = kabupaten_of(region)?;
    // Every site of the region is ranked; the best per minute and the requested and pinned ones
    // are candidates.
    let ranking = ranker
        .rank_region(db, region, week_label, &[], usize::MAX)
        .await?
        .ok_or_else(|| {
            PlanError::NotFound(format!(
                "Wilayah {region} tidak ditemukan / region not found"
            ))
        })?;
    let week_start = ranking.week_start;
    let teams = team_inputs(db, &kabupaten, settings).await?;
    // Plans (and their pins) belong to the kabupaten/kota, whose teams they schedule and email;
    // a finer region is only a focus on which sites are candidates.
    let pins = plans::pins_of(db, kabupaten.as_str(), &ranking.week).await?;
    let days: Vec<chrono::NaiveDate> = week_start.iter_days().take(7).collect();
    let mut answers =
        answers::answer_facts(db, &kabupaten, &ranking.week, &days, &teams, settings).await?;
    // Completed visits of the base plan: on a day already worked, or logged as visited that day.
    let completed: Vec<&Stop> = match base {
        Some(b) => {
            let sites: Vec<i64> = b.stops.iter().map(|s| s.site_id).collect();
            let logged = plans::visited_days(db, &sites).await?;
            b.stops
                .iter()
                .filter(|s| s.day < b.frozen_before || logged.contains(&(s.site_id, s.day)))
                .collect()
        }
        None => Vec::new(),
    };
    let completed_keys: HashSet<String> = completed
        .iter()
        .map(|s| visit_key(s.site_id, s.part, s.parts))
        .collect();
    let wanted: HashSet<i64> = options
        .sites
        .iter()
        .copied()
        .chain(pins.iter().map(|p| p.site_id))
        .chain(answers.wanted.iter().copied())
        // The office's service days are staffed whatever their rate (the staffing rule).
        .chain(
            ranking
                .items
                .iter()
                .filter(|i| i.site.kind == "kantor")
                .map(|i| i.site.id),
        )
        .collect();
    if let Some(id) = options
        .sites
        .iter()
        .find(|id| !ranking.items.iter().any(|i| i.site.id == **id))
    {
        return Err(PlanError::BadRequest(format!(
            "situs {id} tidak aktif di {region} / site {id} is not an active site of {region}"
        )));
    }
    let mut candidates = open_candidates(db, region, &ranking, &wanted).await?;
    for c in &mut candidates {
        if let Some(closed) = answers.closed.get(&c.site_id) {
            c.closed.extend(closed.iter().cloned());
        }
    }
    let chosen = week::select_candidates(&candidates, &teams, settings, &wanted, week_start);
    let candidates: Vec<CandidateInput> = chosen.iter().map(|&i| candidates[i].clone()).collect();
    answers::staff_office_days(&mut answers, &candidates, &days, &teams, settings);
    let mut built = week::build_week(week_start, &teams, &candidates, settings);
    // A completed part stands in for the same part of the new build; the site's other parts (or
    // what is left of it once outcomes are logged) stay candidates. A walk-in site served this
    // week already (a completed session) gets no other session.
    let completed_sites: HashSet<i64> = completed.iter().map(|s| s.site_id).collect();
    let done = |v: &week::VisitSpec| {
        completed_keys.contains(&v.key)
            || (matches!(v.limit, Some(week::Limit::Session { .. }))
                && completed_sites.contains(&v.site_id))
    };
    let dropped: HashSet<String> = built
        .visits
        .iter()
        .filter(|v| done(v))
        .map(|v| v.key.clone())
        .collect();
    built.visits.retain(|v| !dropped.contains(&v.key));
    built.instance.sites.retain(|s| !dropped.contains(&s.id));
    if let Some(b) = base {
        let clock = built.clock;
        keep_completed(
            db,
            b,
            &completed,
            &mut built.instance,
            &mut built.visits,
            clock,
        )
        .await?;
    }
    // A coordinator's own pin wins over a place's proposal for the same site.
    answers
        .pins
        .retain(|a| !pins.iter().any(|p| p.site_id == a.site_id));
    answers
        .staffed
        .retain(|a| !pins.iter().any(|p| p.site_id == a.site_id));
    apply_pins(&pins, &built.visits, &completed_keys, &mut built.instance)?;
    let soft_pins = answers::apply_answer_pins(
        &mut answers,
        &built.visits,
        &completed_keys,
        &mut built.instance,
    );
    Ok(Prepared {
        kabupaten,
        ranking,
        teams,
        completed,
        candidates: candidates.len(),
        built,
        answers,
        soft_pins,
    })
}

/// Every ranked site with its own hours and the school calendar's closed days, before choosing:
/// a site closed all week must not take a candidate's place.
async fn open_candidates(
    db: &Db,
    region: &RegionCode,
    ranking: &Ranking,
    wanted: &HashSet<i64>,
) -> Result<Vec<CandidateInput>, PlanError> {
    let mut all = candidate_inputs(ranking, wanted);
    let ids: Vec<i64> = all.iter().map(|c| c.site_id).collect();
    let site_rows = plans::sites_by_id(db, &ids).await?;
    let week_start = ranking.week_start;
    let week_end = week_start + chrono::Duration::days(6);
    let closures = crate::store::calendar::closures(db, region, week_start, week_end).await?;
    let days: Vec<chrono::NaiveDate> = (0..7)
        .map(|d| week_start + chrono::Duration::days(d))
        .collect();
    all.retain_mut(|c| {
        let Some(row) = site_rows.get(&c.site_id) else {
            return false;
        };
        c.hours = (!row.opening_hours.is_empty())
            .then(|| WeeklyHours::parse(&row.opening_hours).ok())
            .flatten();
        if let Ok(code) = RegionCode::parse(&row.region_code) {
            c.closed = crate::domain::calendar::closed_days(&closures, &code, c.kind, days.clone());
        }
        // An event exists on its date only: outside this week it is no candidate at all.
        if let Some(date) = row.event_date {
            if !days.contains(&date) {
                return false;
            }
            let only = format!("acara hanya pada {date}");
            c.closed.extend(
                days.iter()
                    .filter(|d| **d != date)
                    .map(|d| (*d, only.clone())),
            );
        }
        true
    });
    Ok(all)
}

/// What the search found, with the reasons for what it left out and each route's legs.
pub(super) struct Found {
    solved: planner::shares::Solved,
    reasons: Vec<(usize, planner::Why)>,
    legs: Vec<(Vec<u32>, u32, u32)>,
    time_limit: f64,
    seed: u64,
}

/// The search, on the bounded heavy-work queue (a full queue is `PlanError::Busy`).
async fn search(
    ranker: &Ranker,
    settings: &WeekSettings,
    options: &PlanOptions,
    prep: &Prepared<'_>,
) -> Result<Found, PlanError> {
    let time_limit = options
        .time_limit_s
        .unwrap_or(settings.time_limit_s)
        .min(settings.max_time_limit_s);
    let seed = options.seed.unwrap_or(settings.seed);
    let instance = prep.built.instance.clone();
    let visits = prep.built.visits.clone();
    let targets = settings.shares.clone();
    let soft_pins = prep.soft_pins.clone();
    let scores: HashMap<i64, f64> = prep
        .ranking
        .items
        .iter()
        .map(|i| (i.site.id, i.score))
        .collect();
    let (solved, reasons, legs) = ranker
        .work()
        .run(move || -> Result<_, PlanError> {
            let solved =
                planner::shares::solve_week(&instance, &visits, &targets, time_limit, seed)
                    .map_err(|e| PlanError::Internal(e.to_string()))?;
            let (problem, instance, outcome) = (&solved.problem, &solved.instance, &solved.outcome);
            let hard: Vec<&String> = outcome
                .pin_conflicts
                .iter()
                .filter(|k| !soft_pins.contains(*k))
                .collect();
            if !hard.is_empty() {
                return Err(PlanError::Conflict(format!(
                    "pin tidak muat di hari timnya / pinned visits do not fit their team-day: {}",
                    hard.iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let check = planner::evaluate(instance, problem, &outcome.plan);
            if !check.feasible {
                return Err(PlanError::Internal(format!(
                    "plan fails the feasibility check: {:?}",
                    check.errors
                )));
            }
            let reasons = explain_unserved(problem, instance, &outcome.plan, &scores);
            let legs = route_legs(problem, &outcome.plan);
            Ok((solved, reasons, legs))
        })
        .await??;
    Ok(Found {
        solved,
        reasons,
        legs,
        time_limit,
        seed,
    })
}

/// Store the plan: its stops, what changed against the base, the unscheduled sites best first
/// (each once) and the figures behind the plan's notes.
async fn store(
    db: &Db,
    region: &RegionCode,
    settings: &WeekSettings,
    base: Option<&Base>,
    prep: &Prepared<'_>,
    found: Found,
) -> Result<(i64, Changes), PlanError> {
    let outcome = &found.solved.outcome;
    let pinned: HashSet<&str> = found
        .solved
        .instance
        .sites
        .iter()
        .filter(|s| s.pin.is_some())
        .map(|s| s.id.as_str())
        .collect();
    let visits = &prep.built.visits;
    let visit_by_key: HashMap<&str, &week::VisitSpec> =
        visits.iter().map(|v| (v.key.as_str(), v)).collect();
    let clock = prep.built.clock;
    let week_start = prep.ranking.week_start;
    let (mut stops, routes_summary) = stored_stops(
        outcome,
        &found.legs,
        &visit_by_key,
        &pinned,
        &prep.teams,
        clock,
        week_start,
    )?;
    let stock = crate::store::stock::stock_on(db, prep.kabupaten.as_str(), week_start).await?;
    let cards = consumables::apply_cards(&mut stops, &prep.teams, settings, stock);
    let changes = base
        .map(|b| count_changes(&b.stops, &prep.completed, &stops))
        .unwrap_or_default();
    let planned_sites: HashSet<i64> = stops.iter().map(|s| s.site_id).collect();
    let (unscheduled, unplanned_parts) = unscheduled(prep, &found, &visit_by_key, &planned_sites);
    let remainders = remainders(&stops, visits, &unplanned_parts);
    let minutes = planner::shares::minutes_by_indicator(&outcome.plan, visits);
    let team_names: HashMap<i64, String> =
        prep.teams.iter().map(|t| (t.id, t.name.clone())).collect();
    let stats = serde_json::json!({
        "iterations": outcome.iterations, "ticks": outcome.ticks, "runtime_ms": outcome.runtime_ms,
        "first_plan_ms": outcome.first_plan_ms, "cut_by_clock": outcome.cut_by_clock, "workers": outcome.workers,
        "candidates": prep.candidates, "time_limit_s": found.time_limit, "routes": routes_summary,
        "break": clock_text(&clock),
        "minutes_by_indicator": minutes,
        "shares": {
            "target": settings.shares,
            "actual": planner::shares::shares_of(&minutes),
            "weights": found.solved.weights,
        },
        "remainders": remainders,
        "data": oldest_coverage(&prep.ranking, &planned_sites),
        "focus": (region != &prep.kabupaten).then(|| region.to_string()),
        "answers": answers::proposal_outcomes(&prep.answers, &stops, &team_names),
        "cards": cards,
    });
    let id = plans::insert(
        db,
        plans::NewPlan {
            region_code: prep.kabupaten.to_string(),
            week: prep.ranking.week.clone(),
            seed: found.seed as i64,
            prize: outcome.prize,
            travel_s: outcome.travel_s as i64,
            upper_bound: outcome.upper_bound,
            visits: outcome.visits as i32,
            stats,
            unscheduled: serde_json::Value::Array(unscheduled),
            base_plan_id: base.map(|b| b.plan.id),
            changes: base.map(|_| changes),
            stops,
        },
    )
    .await?;
    Ok((id, changes))
}

/// Unscheduled: those the builder excluded, then the search's, best first, each once per site
/// (at most [`EXPLAINED`]); and, for sites planned only in part, why the other parts were not.
fn unscheduled(
    prep: &Prepared<'_>,
    found: &Found,
    visit_by_key: &HashMap<&str, &week::VisitSpec>,
    planned_sites: &HashSet<i64>,
) -> (Vec<serde_json::Value>, HashMap<i64, serde_json::Value>) {
    let score_of: HashMap<i64, f64> = prep
        .ranking
        .items
        .iter()
        .map(|i| (i.site.id, i.score))
        .collect();
    let score = |id: &i64| score_of.get(id).copied().unwrap_or(0.0);
    let mut all: Vec<(i64, f64, serde_json::Value)> = Vec::new();
    for (site_id, why) in &prep.built.excluded {
        let why = serde_json::to_value(why).unwrap_or_default();
        all.push((*site_id, score(site_id), why));
    }
    let instance_ids = &found.solved.problem.site_ids;
    let mut unplanned_parts: HashMap<i64, serde_json::Value> = HashMap::new();
    for (idx, why) in &found.reasons {
        let v = visit_by_key[instance_ids[*idx].as_str()];
        let why = serde_json::to_value(why).unwrap_or_default();
        if planned_sites.contains(&v.site_id) {
            unplanned_parts.insert(v.site_id, why);
        } else {
            all.push((v.site_id, score(&v.site_id), why));
        }
    }
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut seen = HashSet::new();
    let list = all
        .into_iter()
        .filter(|(site_id, _, _)| !planned_sites.contains(site_id) && seen.insert(*site_id))
        .take(EXPLAINED)
        .map(|(site_id, score, why)| serde_json::json!({ "site_id": site_id, "priority": score, "why": why }))
        .collect();
    (list, unplanned_parts)
}

/// The oldest coverage figure behind the planned visits' estimates, for the plan's notes.
fn oldest_coverage(ranking: &Ranking, planned_sites: &HashSet<i64>) -> serde_json::Value {
    let oldest = ranking
        .items
        .iter()
        .filter(|i| planned_sites.contains(&i.site.id))
        .flat_map(|i| i.factors.terms.iter())
        .filter(|t| t.basis == crate::priority::Basis::Estimate && t.expected_people > 0.0)
        .filter_map(|t| Some((t.coverage_as_of?, t.coverage_age_days?, t.coverage_old)))
        .min_by_key(|(d, _, _)| *d);
    match oldest {
        Some((as_of, age, old)) => serde_json::json!({
            "coverage_as_of": as_of, "coverage_age_days": age, "coverage_old": old,
        }),
        None => serde_json::Value::Null,
    }
}
