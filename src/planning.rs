//! The planning service: ranked sites and teams from the store → a week instance → the solver →
//! a stored draft with reasons for what was left out. Shared by `jemput plan`, `demo` and the API.

use std::collections::{BTreeMap, HashMap, HashSet};

use sea_orm::DatabaseConnection;
use serde::Serialize;

use crate::domain::region::Depth;
use crate::domain::{Coordinate, RegionCode, SiteKind, WeeklyHours};
use crate::planner;
use crate::planner::week::{self, CandidateInput, TeamInput, WeekSettings};
use crate::planner::{InstanceSite, TeamDayRef};
use crate::priority::Params;
use crate::ranking::{self, RankError};
use crate::store::entity::{plan_stops, plans as plans_entity};
use crate::store::{StoreError, plans};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but the week cannot honour it (pins that do not fit).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal planner error: {0}")]
    Internal(String),
}

impl From<RankError> for PlanError {
    fn from(e: RankError) -> Self {
        match e {
            RankError::BadWeek(m) => PlanError::BadRequest(m),
            RankError::Store(s) => PlanError::Store(s),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub time_limit_s: Option<f64>,
    pub seed: Option<u64>,
    /// Sites the coordinator asks for: candidates even when outside the top N.
    pub sites: Vec<i64>,
}

/// How many unscheduled sites get a reason.
pub const EXPLAINED: usize = 20;

/// The plan a re-plan starts from.
struct Base {
    plan: plans_entity::Model,
    stops: Vec<plan_stops::Model>,
    /// Days before this one were worked: their visits stay as they were, nothing is added.
    frozen_before: chrono::NaiveDate,
}

/// What re-planning changed, counted over the base plan's visits that were not completed.
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq)]
pub struct Changes {
    /// Still planned, on another team or day.
    pub moved: i32,
    /// Planned now, not before.
    pub added: i32,
    /// Planned before, not now.
    pub dropped: i32,
    /// Kept as they were because their day was already worked or the visit was logged.
    pub kept_completed: i32,
}

fn visit_key(site_id: i64, part: i32, parts: i32) -> String {
    if parts <= 1 {
        site_id.to_string()
    } else {
        format!("{site_id}#{part}")
    }
}

fn kabupaten_of(region: &RegionCode) -> Result<RegionCode, PlanError> {
    region
        .lineage()
        .into_iter()
        .find(|c| c.depth() == Depth::KabupatenKota)
        .ok_or_else(|| {
            PlanError::BadRequest(format!(
                "{region}: rencana dibuat per kabupaten/kota atau di bawahnya"
            ))
        })
}

/// Plan a week for the teams of the region's kabupaten/kota and store it as a draft.
pub async fn plan_week(
    db: &DatabaseConnection,
    priority: &Params,
    settings: &WeekSettings,
    region: &RegionCode,
    week_label: &str,
    options: &PlanOptions,
) -> Result<i64, PlanError> {
    make_plan(db, priority, settings, region, week_label, options, None)
        .await
        .map(|(id, _)| id)
}

/// Re-plan a stored plan's week: completed visits (days before `as_of`, or logged) and pins
/// stay; the rest starts where it was and moves only for more priority. A new draft version.
pub async fn replan(
    db: &DatabaseConnection,
    priority: &Params,
    settings: &WeekSettings,
    plan_id: i64,
    as_of: chrono::NaiveDate,
    options: &PlanOptions,
) -> Result<(i64, Changes), PlanError> {
    let stored = plans::load(db, plan_id).await?.ok_or_else(|| {
        PlanError::NotFound(format!(
            "rencana {plan_id} tidak ditemukan / plan not found"
        ))
    })?;
    let region = RegionCode::parse(&stored.plan.region_code).map_err(PlanError::Internal)?;
    let week = stored.plan.week.clone();
    let base = Base {
        plan: stored.plan,
        stops: stored.stops,
        frozen_before: as_of,
    };
    make_plan(db, priority, settings, &region, &week, options, Some(base)).await
}

#[allow(clippy::too_many_arguments)]
async fn make_plan(
    db: &DatabaseConnection,
    priority: &Params,
    settings: &WeekSettings,
    region: &RegionCode,
    week_label: &str,
    options: &PlanOptions,
    base: Option<Base>,
) -> Result<(i64, Changes), PlanError> {
    let kabupaten = kabupaten_of(region)?;
    let settings = &settings.for_region(region);
    // Every site of the region is ranked; the top N and the requested and pinned ones are candidates.
    let ranking = ranking::rank_region(db, priority, region, week_label, &[], usize::MAX)
        .await?
        .ok_or_else(|| {
            PlanError::NotFound(format!(
                "Wilayah {region} tidak ditemukan / region not found"
            ))
        })?;
    let week_label = ranking.week.clone();
    let team_rows = plans::teams_of(db, kabupaten.as_str()).await?;
    if team_rows.is_empty() {
        return Err(PlanError::BadRequest(format!(
            "tidak ada tim di {kabupaten} / no team based in {kabupaten}"
        )));
    }
    let teams: Vec<TeamInput> = team_rows
        .iter()
        .filter_map(|t| {
            Some(TeamInput {
                id: t.id,
                name: t.name.clone(),
                base: Coordinate::new(t.base_lat, t.base_lon).ok()?,
                kits: t.kits.max(1) as u32,
                capabilities: crate::domain::site::parse_capabilities(&t.capabilities).ok()?,
                hours: WeeklyHours::parse(&t.working_hours).ok()?,
            })
        })
        .collect();
    let pins = plans::pins_of(db, region.as_str(), &week_label).await?;
    // Completed visits of the base plan: on a day already worked, or logged as visited that day.
    let completed: Vec<&plan_stops::Model> = match &base {
        Some(b) => {
            let logged =
                plans::visited_days(db, &b.stops.iter().map(|s| s.site_id).collect::<Vec<_>>())
                    .await?;
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
        .collect();
    for id in &options.sites {
        if !ranking.items.iter().any(|i| i.site.id == *id) {
            return Err(PlanError::BadRequest(format!(
                "situs {id} tidak aktif di {region} / site {id} is not an active site of {region}"
            )));
        }
    }
    let items: Vec<&ranking::RankedSite> = ranking
        .items
        .iter()
        .enumerate()
        .filter(|(rank, i)| {
            (*rank < settings.candidates && i.score > 0.0) || wanted.contains(&i.site.id)
        })
        .map(|(_, i)| i)
        .collect();
    let site_rows =
        plans::sites_by_id(db, &items.iter().map(|i| i.site.id).collect::<Vec<_>>()).await?;
    let candidates: Vec<CandidateInput> = items
        .iter()
        .filter_map(|i| {
            let row = site_rows.get(&i.site.id)?;
            let main =
                i.factors
                    .terms
                    .iter()
                    .fold(None::<&crate::priority::Term>, |b, t| match b {
                        Some(b) if b.value >= t.value => Some(b),
                        _ => Some(t),
                    })?;
            Some(CandidateInput {
                site_id: i.site.id,
                kind: SiteKind::parse(&i.site.kind).ok()?,
                coordinate: Coordinate::new(i.site.lat, i.site.lon).ok()?,
                hours: (!row.opening_hours.is_empty())
                    .then(|| WeeklyHours::parse(&row.opening_hours).ok())
                    .flatten(),
                expected: i
                    .expected_people
                    .iter()
                    .filter(|(_, v)| **v > 0.0)
                    .map(|(k, v)| (k.clone(), *v))
                    .collect(),
                // Integer-ish priorities: tiny score differences must not outweigh hours of travel.
                priority: (i.score * 10.0).round() / 10.0,
                main_indicator: main.indicator.clone(),
            })
        })
        .collect();
    let mut built = week::build_week(ranking.week_start, &teams, &candidates, settings);
    // A completed part stands in for the same part of the new build; the site's other parts (or
    // what is left of it once outcomes are logged) stay candidates.
    let mut visits = built.visits;
    visits.retain(|v| !completed_keys.contains(&v.key));
    let instance = &mut built.instance;
    instance.sites.retain(|s| !completed_keys.contains(&s.id));
    let team_day = |team_id: i64, day: chrono::NaiveDate| TeamDayRef {
        team: team_id.to_string(),
        day: day.to_string(),
        seq: None,
    };
    // Completed visits go back in exactly as they were: their own time as the only window.
    if let Some(b) = &base {
        for team in &mut instance.teams {
            for d in &mut team.days {
                d.frozen = d
                    .day
                    .parse::<chrono::NaiveDate>()
                    .is_ok_and(|day| day < b.frozen_before);
            }
        }
        let working: HashSet<(String, String)> = instance
            .teams
            .iter()
            .flat_map(|t| t.days.iter().map(|d| (t.id.clone(), d.day.clone())))
            .collect();
        for s in &completed {
            let key = visit_key(s.site_id, s.part, s.parts);
            let at = team_day(s.team_id, s.day);
            if !working.contains(&(at.team.clone(), at.day.clone())) {
                continue; // a day that is no longer worked (a new holiday): nothing to keep.
            }
            let Some(site) = site_rows_any(db, s.site_id).await? else {
                continue;
            };
            let service_min = f64::from(
                crate::planner::parse_hms(&s.end)
                    .unwrap_or(0)
                    .saturating_sub(crate::planner::parse_hms(&s.start).unwrap_or(0)),
            ) / 60.0;
            instance.sites.push(InstanceSite {
                id: key.clone(),
                lat: site.lat,
                lon: site.lon,
                service_min,
                priority: s.priority,
                windows: Some(vec![crate::planner::Window {
                    day: at.day.clone(),
                    open: s.start.clone(),
                    close: s.end.clone(),
                }]),
                teams: None,
                pin: Some(at.clone()),
                previous: Some(at),
            });
            visits.push(week::VisitSpec {
                key,
                site_id: s.site_id,
                part: s.part as usize,
                parts: s.parts as usize,
                people: serde_json::from_str(&s.people).unwrap_or_default(),
                service_min,
                priority: s.priority,
            });
        }
        let previous: HashMap<String, TeamDayRef> = b
            .stops
            .iter()
            .map(|s| {
                (
                    visit_key(s.site_id, s.part, s.parts),
                    TeamDayRef {
                        seq: Some(s.seq as u32),
                        ..team_day(s.team_id, s.day)
                    },
                )
            })
            .collect();
        for site in &mut instance.sites {
            if site.previous.is_none() {
                site.previous = previous.get(&site.id).cloned();
            }
        }
    }
    // Coordinator's pins.
    let mut pin_errors = Vec::new();
    for pin in &pins {
        let at = team_day(pin.team_id, pin.day);
        let matching: Vec<&week::VisitSpec> = visits
            .iter()
            .filter(|v| v.site_id == pin.site_id && v.part == pin.part as usize)
            .collect();
        let Some(v) = matching.first() else {
            if !completed_keys.contains(&visit_key(pin.site_id, pin.part, 2))
                && !completed_keys.contains(&pin.site_id.to_string())
            {
                pin_errors.push(format!("situs {} bagian {}: tidak ada kunjungan yang bisa dipin (tutup atau tidak ada tim yang mampu) / no visit to pin", pin.site_id, pin.part));
            }
            continue;
        };
        if !instance
            .teams
            .iter()
            .any(|t| t.id == at.team && t.days.iter().any(|d| d.day == at.day && !d.frozen))
        {
            pin_errors.push(format!(
                "situs {}: tim {} tidak bekerja pada {} / team does not work that day",
                pin.site_id, pin.team_id, pin.day
            ));
            continue;
        }
        if let Some(site) = instance.sites.iter_mut().find(|s| s.id == v.key) {
            site.pin = Some(at);
        }
    }
    if !pin_errors.is_empty() {
        return Err(PlanError::Conflict(pin_errors.join("; ")));
    }

    let time_limit = options.time_limit_s.unwrap_or(settings.time_limit_s);
    let seed = options.seed.unwrap_or(settings.seed);
    let instance = built.instance;
    let solved = tokio::task::spawn_blocking(move || -> Result<_, PlanError> {
        let problem = planner::Problem::from_instance(&instance)
            .map_err(|e| PlanError::Internal(e.to_string()))?;
        let outcome = planner::solve(
            &problem,
            &planner::Options::new(std::time::Duration::from_secs_f64(time_limit), seed),
        );
        if !outcome.pin_conflicts.is_empty() {
            return Err(PlanError::Conflict(format!(
                "pin tidak muat di hari timnya / pinned visits do not fit their team-day: {}",
                outcome.pin_conflicts.join(", ")
            )));
        }
        let check = planner::evaluate(&instance, &problem, &outcome.plan);
        if !check.feasible {
            return Err(PlanError::Internal(format!(
                "plan fails the feasibility check: {:?}",
                check.errors
            )));
        }
        // Reasons for the best unscheduled visits; several parts of one site count once later,
        // so explain enough of them to name twenty sites.
        let mut order: Vec<usize> = (0..problem.n_sites()).collect();
        order.sort_by(|&a, &b| problem.prize[b].cmp(&problem.prize[a]).then(a.cmp(&b)));
        let site_of = |key: &str| key.split('#').next().unwrap_or_default().to_string();
        // A site with any part planned is not unscheduled.
        let served: HashSet<String> = outcome
            .plan
            .routes
            .iter()
            .flat_map(|r| r.stops.iter().map(|s| site_of(&s.site)))
            .collect();
        let mut named = HashSet::new();
        let unserved: Vec<usize> = order
            .into_iter()
            .filter(|&s| !served.contains(&site_of(&problem.site_ids[s])))
            .filter(|&s| named.len() < EXPLAINED && named.insert(site_of(&problem.site_ids[s])))
            .collect();
        let reasons = planner::why_unserved(&problem, &instance, &outcome.plan, &unserved);
        let legs = route_legs(&problem, &outcome.plan);
        let pinned: HashSet<String> = instance
            .sites
            .iter()
            .filter(|s| s.pin.is_some())
            .map(|s| s.id.clone())
            .collect();
        Ok((outcome, reasons, problem.site_ids.clone(), legs, pinned))
    })
    .await
    .map_err(|e| PlanError::Internal(e.to_string()))??;
    let (outcome, reasons, instance_ids, legs, pinned) = solved;

    let visit_by_key: HashMap<&str, &week::VisitSpec> =
        visits.iter().map(|v| (v.key.as_str(), v)).collect();
    let mut stops = Vec::new();
    let mut routes_summary = Vec::new();
    for (route, leg) in outcome.plan.routes.iter().zip(&legs) {
        let team_id: i64 = route
            .team
            .parse()
            .map_err(|_| PlanError::Internal("team id".into()))?;
        let day: chrono::NaiveDate = route
            .day
            .parse()
            .map_err(|_| PlanError::Internal("day".into()))?;
        for (seq, stop) in route.stops.iter().enumerate() {
            let v = visit_by_key[stop.site.as_str()];
            stops.push(plans::NewStop {
                team_id,
                day,
                seq: seq as i32 + 1,
                site_id: v.site_id,
                part: v.part as i32,
                parts: v.parts as i32,
                arrive: stop.arrive.clone(),
                start: stop.start.clone(),
                end: stop.end.clone(),
                travel_from_prev_s: leg.0[seq] as i32,
                people: serde_json::to_string(&v.people).unwrap_or_default(),
                priority: v.priority,
                pinned: pinned.contains(&stop.site),
            });
        }
        routes_summary.push(serde_json::json!({
            "team_id": team_id, "day": route.day, "travel_s": leg.0.iter().sum::<u32>() + leg.1,
            "return_travel_s": leg.1, "back_at": planner_time(leg.2),
        }));
    }
    let changes = base
        .as_ref()
        .map(|b| count_changes(&b.stops, &completed, &stops))
        .unwrap_or_default();
    // Unscheduled: those the builder excluded, then the solver's, best first, each once per site.
    let mut unscheduled: Vec<serde_json::Value> = Vec::new();
    let mut seen = HashSet::new();
    let score_of: HashMap<i64, f64> = items.iter().map(|i| (i.site.id, i.score)).collect();
    let mut all: Vec<(i64, f64, serde_json::Value)> = Vec::new();
    for (site_id, why) in &built.excluded {
        all.push((
            *site_id,
            score_of.get(site_id).copied().unwrap_or(0.0),
            serde_json::to_value(why).unwrap_or_default(),
        ));
    }
    for (idx, why) in &reasons {
        let key = &instance_ids[*idx];
        let v = visit_by_key[key.as_str()];
        all.push((
            v.site_id,
            score_of.get(&v.site_id).copied().unwrap_or(0.0),
            serde_json::to_value(why).unwrap_or_default(),
        ));
    }
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let planned_sites: HashSet<i64> = stops.iter().map(|s| s.site_id).collect();
    for (site_id, score, why) in all {
        // A site with one part planned and another not is not "unscheduled".
        if unscheduled.len() >= EXPLAINED
            || planned_sites.contains(&site_id)
            || !seen.insert(site_id)
        {
            continue;
        }
        unscheduled.push(serde_json::json!({ "site_id": site_id, "priority": score, "why": why }));
    }
    let stats = serde_json::json!({
        "iterations": outcome.iterations, "ticks": outcome.ticks, "runtime_ms": outcome.runtime_ms,
        "first_plan_ms": outcome.first_plan_ms, "cut_by_clock": outcome.cut_by_clock, "workers": outcome.workers,
        "candidates": candidates.len(), "time_limit_s": time_limit, "routes": routes_summary,
    });
    let id = plans::insert(
        db,
        plans::NewPlan {
            region_code: region.to_string(),
            week: week_label,
            seed: seed as i64,
            prize: outcome.prize,
            travel_s: outcome.travel_s as i64,
            upper_bound: outcome.upper_bound,
            visits: outcome.visits as i32,
            stats: stats.to_string(),
            unscheduled: serde_json::Value::Array(unscheduled).to_string(),
            base_plan_id: base.as_ref().map(|b| b.plan.id),
            changes: base.as_ref().map(|_| changes),
            stops,
        },
    )
    .await?;
    Ok((id, changes))
}

async fn site_rows_any(
    db: &DatabaseConnection,
    id: i64,
) -> Result<Option<crate::store::entity::sites::Model>, StoreError> {
    Ok(plans::sites_by_id(db, &[id]).await?.remove(&id))
}

/// Moved, added and dropped visits between a base plan and the new stops (completed ones aside).
fn count_changes(
    base: &[plan_stops::Model],
    completed: &[&plan_stops::Model],
    new: &[plans::NewStop],
) -> Changes {
    let done: HashSet<i64> = completed.iter().map(|s| s.id).collect();
    let before: HashMap<(i64, i32), (i64, chrono::NaiveDate)> = base
        .iter()
        .filter(|s| !done.contains(&s.id))
        .map(|s| ((s.site_id, s.part), (s.team_id, s.day)))
        .collect();
    let kept: HashSet<(i64, i32)> = completed.iter().map(|s| (s.site_id, s.part)).collect();
    let after: HashMap<(i64, i32), (i64, chrono::NaiveDate)> = new
        .iter()
        .filter(|s| !kept.contains(&(s.site_id, s.part)))
        .map(|s| ((s.site_id, s.part), (s.team_id, s.day)))
        .collect();
    let mut c = Changes {
        kept_completed: completed.len() as i32,
        ..Changes::default()
    };
    for (k, at) in &before {
        match after.get(k) {
            Some(now) if now != at => c.moved += 1,
            Some(_) => {}
            None => c.dropped += 1,
        }
    }
    c.added = after.keys().filter(|k| !before.contains_key(k)).count() as i32;
    c
}

/// Pins for a plan's region-week, as a coordinator sends them.
#[derive(Debug, Clone, serde::Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PinInput {
    pub site_id: i64,
    #[serde(default = "first_part")]
    pub part: i32,
    pub team_id: i64,
    pub day: chrono::NaiveDate,
}

fn first_part() -> i32 {
    1
}

/// Replace the pins of a plan's region-week (all or nothing); they apply to the next plan or
/// re-plan of that week.
pub async fn set_pins(
    db: &DatabaseConnection,
    settings: &WeekSettings,
    plan_id: i64,
    pins: &[PinInput],
) -> Result<Vec<PinInput>, PlanError> {
    let plan = plans::load_plan(db, plan_id).await?.ok_or_else(|| {
        PlanError::NotFound(format!(
            "rencana {plan_id} tidak ditemukan / plan not found"
        ))
    })?;
    let region = RegionCode::parse(&plan.region_code).map_err(PlanError::Internal)?;
    let kabupaten = kabupaten_of(&region)?;
    let start = ranking::week_start(&plan.week).map_err(PlanError::Internal)?;
    let teams: HashMap<i64, crate::store::entity::teams::Model> =
        plans::teams_of(db, kabupaten.as_str())
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
    let sites = plans::sites_by_id(db, &pins.iter().map(|p| p.site_id).collect::<Vec<_>>()).await?;
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for (i, pin) in pins.iter().enumerate() {
        let at = format!("pins[{i}]");
        match sites.get(&pin.site_id) {
            Some(s)
                if RegionCode::parse(&s.region_code).is_ok_and(|c| c.is_within(&region))
                    && s.active => {}
            _ => problems.push(format!(
                "{at}: situs {} bukan situs aktif di {region} / not an active site of the region",
                pin.site_id
            )),
        }
        if pin.part < 1 || pin.part as usize > settings.max_parts {
            problems.push(format!("{at}: part harus 1..{}", settings.max_parts));
        }
        if !seen.insert((pin.site_id, pin.part)) {
            problems.push(format!(
                "{at}: situs {} bagian {} dipin dua kali / pinned twice",
                pin.site_id, pin.part
            ));
        }
        let offset = (pin.day - start).num_days();
        if !(0..7).contains(&offset) {
            problems.push(format!(
                "{at}: {} di luar minggu {} / outside the plan's week",
                pin.day, plan.week
            ));
            continue;
        }
        match teams.get(&pin.team_id) {
            None => problems.push(format!(
                "{at}: tim {} tidak ada di {kabupaten} / no such team in the kabupaten",
                pin.team_id
            )),
            Some(t) => {
                let works = WeeklyHours::parse(&t.working_hours)
                    .is_ok_and(|h| !h.intervals(offset as usize).is_empty())
                    && !settings.holidays.contains(&pin.day);
                if !works {
                    problems.push(format!(
                        "{at}: tim {} tidak bekerja pada {} / the team does not work that day",
                        t.name, pin.day
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(PlanError::BadRequest(problems.join("; ")));
    }
    let rows = pins
        .iter()
        .map(|p| (p.site_id, p.part, p.team_id, p.day))
        .collect::<Vec<_>>();
    plans::replace_pins(db, &plan.region_code, &plan.week, &rows).await?;
    Ok(pins.to_vec())
}

/// The pins of a plan's region-week.
pub async fn pins(
    db: &DatabaseConnection,
    plan_id: i64,
) -> Result<Option<Vec<PinInput>>, PlanError> {
    let Some(plan) = plans::load_plan(db, plan_id).await? else {
        return Ok(None);
    };
    Ok(Some(
        plans::pins_of(db, &plan.region_code, &plan.week)
            .await?
            .into_iter()
            .map(|p| PinInput {
                site_id: p.site_id,
                part: p.part,
                team_id: p.team_id,
                day: p.day,
            })
            .collect(),
    ))
}

fn planner_time(sec: u32) -> String {
    format!("{:02}:{:02}", sec / 3600, (sec % 3600) / 60)
}

/// Per route: travel before each stop, the return leg, and the time back at base.
fn route_legs(p: &planner::Problem, plan: &planner::Plan) -> Vec<(Vec<u32>, u32, u32)> {
    let index: HashMap<&str, usize> = p
        .site_ids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    plan.routes
        .iter()
        .map(|route| {
            let spec = p
                .routes
                .iter()
                .find(|s| p.team_ids[s.team] == route.team && s.day == route.day)
                .expect("a planned route is one of the problem's team-days");
            let mut prev = spec.base;
            let mut legs = Vec::new();
            let mut end = spec.start;
            for stop in &route.stops {
                let node = p.site_node(index[stop.site.as_str()]);
                legs.push(p.t(prev, node));
                prev = node;
                end = crate::planner::parse_hms(&stop.end).unwrap_or(end);
            }
            let back = p.t(prev, spec.base);
            (legs, back, end + back)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Views

#[derive(Debug, Serialize)]
pub struct PlanView {
    pub id: i64,
    pub region: String,
    pub week: String,
    /// `draft`, `published` or `superseded`.
    pub status: String,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Approved by the coordinator for the weekly trigger to publish.
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The plan this one re-planned, and what changed against it.
    pub base_plan_id: Option<i64>,
    pub changes: Option<Changes>,
    pub totals: Totals,
    pub stats: serde_json::Value,
    pub routes: Vec<RouteView>,
    pub unscheduled: Vec<UnscheduledView>,
}

#[derive(Debug, Serialize)]
pub struct Totals {
    /// Sum of the priorities served.
    pub priority_served: f64,
    pub travel_s: i64,
    pub visits: i32,
    /// No plan can serve more priority than this (fractional knapsack over team minutes).
    pub upper_bound: f64,
    pub share_of_bound: f64,
}

#[derive(Debug, Serialize)]
pub struct RouteView {
    pub team_id: i64,
    pub team: String,
    pub day: String,
    pub base: BaseView,
    pub travel_s: i64,
    pub back_at: String,
    pub stops: Vec<StopView>,
}

#[derive(Debug, Serialize)]
pub struct BaseView {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Serialize)]
pub struct StopView {
    /// The visit's id (`/api/v1/visits/{visit_id}`), unique to this plan version.
    pub visit_id: i64,
    pub seq: i32,
    pub site_id: i64,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    /// The site's contact person, for the team's email.
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub part: i32,
    pub parts: i32,
    pub arrive: String,
    pub start: String,
    pub end: String,
    pub travel_from_prev_s: i32,
    pub people: BTreeMap<String, f64>,
    pub priority: f64,
    /// Pinned by the coordinator, or kept because it was completed.
    pub pinned: bool,
}

#[derive(Debug, Serialize)]
pub struct UnscheduledView {
    pub site_id: i64,
    pub name: String,
    pub kind: String,
    pub priority: f64,
    pub why: serde_json::Value,
    pub text_id: String,
    pub text_en: String,
}

fn why_text(why: &serde_json::Value) -> (String, String) {
    match why["reason"].as_str().unwrap_or_default() {
        "no_capable_team" => {
            let cap = why["capability"].as_str().unwrap_or_default();
            (
                format!("tidak ada tim yang mampu melayani {cap}"),
                format!("no team can serve {cap}"),
            )
        }
        "no_window" => (
            "tidak buka pada hari dan jam kerja tim mana pun minggu ini".into(),
            "not open on any day and hour a team works this week".into(),
        ),
        "too_far" => (
            "terlalu jauh: pergi-pulang dari markas tidak muat dalam satu hari kerja".into(),
            "too far: the round trip from a base does not fit in a working day".into(),
        ),
        "crowded_out" => match why["displaced_priority"].as_f64() {
            Some(p) => (
                format!("kalah prioritas: harus menggeser kunjungan berprioritas {p:.1}"),
                format!("crowded out: it would displace a visit of priority {p:.1}"),
            ),
            None => (
                "kalah prioritas: harus menggeser lebih dari satu kunjungan".into(),
                "crowded out: it would displace more than one visit".into(),
            ),
        },
        other => (other.to_string(), other.to_string()),
    }
}

pub async fn view(db: &DatabaseConnection, id: i64) -> Result<Option<PlanView>, StoreError> {
    let Some(stored) = plans::load(db, id).await? else {
        return Ok(None);
    };
    let p = &stored.plan;
    let stats: serde_json::Value = serde_json::from_str(&p.stats).unwrap_or_default();
    let summaries: HashMap<(i64, String), &serde_json::Value> = stats["routes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        (
                            r["team_id"].as_i64().unwrap_or_default(),
                            r["day"].as_str().unwrap_or_default().to_string(),
                        ),
                        r,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut routes: Vec<RouteView> = Vec::new();
    for s in &stored.stops {
        let day = s.day.to_string();
        if routes
            .last()
            .is_none_or(|r| r.team_id != s.team_id || r.day != day)
        {
            let team = stored.teams.get(&s.team_id);
            let summary = summaries.get(&(s.team_id, day.clone()));
            routes.push(RouteView {
                team_id: s.team_id,
                team: team.map(|t| t.name.clone()).unwrap_or_default(),
                day: day.clone(),
                base: BaseView {
                    name: team.map(|t| t.base_name.clone()).unwrap_or_default(),
                    lat: team.map(|t| t.base_lat).unwrap_or_default(),
                    lon: team.map(|t| t.base_lon).unwrap_or_default(),
                },
                travel_s: summary
                    .and_then(|r| r["travel_s"].as_i64())
                    .unwrap_or_default(),
                back_at: summary
                    .and_then(|r| r["back_at"].as_str())
                    .unwrap_or_default()
                    .to_string(),
                stops: Vec::new(),
            });
        }
        let site = stored.sites.get(&s.site_id);
        routes
            .last_mut()
            .expect("pushed above")
            .stops
            .push(StopView {
                visit_id: s.id,
                seq: s.seq,
                site_id: s.site_id,
                name: site.map(|x| x.name.clone()).unwrap_or_default(),
                kind: site.map(|x| x.kind.clone()).unwrap_or_default(),
                address: site.map(|x| x.address.clone()).unwrap_or_default(),
                lat: site.map(|x| x.lat).unwrap_or_default(),
                lon: site.map(|x| x.lon).unwrap_or_default(),
                contact_name: site.and_then(|x| x.contact_name.clone()),
                contact_phone: site.and_then(|x| x.contact_phone.clone()),
                part: s.part,
                parts: s.parts,
                arrive: s.arrive.clone(),
                start: s.start.clone(),
                end: s.end.clone(),
                travel_from_prev_s: s.travel_from_prev_s,
                people: serde_json::from_str(&s.people).unwrap_or_default(),
                priority: s.priority,
                pinned: s.pinned,
            });
    }
    let raw: Vec<serde_json::Value> = serde_json::from_str(&p.unscheduled).unwrap_or_default();
    let ids: Vec<i64> = raw.iter().filter_map(|u| u["site_id"].as_i64()).collect();
    let names = plans::sites_by_id(db, &ids).await?;
    let unscheduled = raw
        .iter()
        .map(|u| {
            let site_id = u["site_id"].as_i64().unwrap_or_default();
            let (text_id, text_en) = why_text(&u["why"]);
            let site = names.get(&site_id);
            UnscheduledView {
                site_id,
                name: site.map(|s| s.name.clone()).unwrap_or_default(),
                kind: site.map(|s| s.kind.clone()).unwrap_or_default(),
                priority: u["priority"].as_f64().unwrap_or_default(),
                why: u["why"].clone(),
                text_id,
                text_en,
            }
        })
        .collect();
    Ok(Some(PlanView {
        id: p.id,
        region: p.region_code.clone(),
        week: p.week.clone(),
        status: p.status.clone(),
        version: p.version,
        created_at: p.created_at,
        published_at: p.published_at,
        approved_at: p.approved_at,
        base_plan_id: p.base_plan_id,
        changes: p.base_plan_id.map(|_| Changes {
            moved: p.moved.unwrap_or_default(),
            added: p.added.unwrap_or_default(),
            dropped: p.dropped.unwrap_or_default(),
            kept_completed: p.kept.unwrap_or_default(),
        }),
        totals: Totals {
            priority_served: p.prize,
            travel_s: p.travel_s,
            visits: p.visits,
            upper_bound: p.upper_bound,
            share_of_bound: if p.upper_bound > 0.0 {
                p.prize / p.upper_bound
            } else {
                1.0
            },
        },
        stats,
        routes,
        unscheduled,
    }))
}

/// Routes as LineStrings and stops as Points, for QGIS or a web map.
pub fn geojson(view: &PlanView) -> serde_json::Value {
    let mut features = Vec::new();
    for r in &view.routes {
        let mut line = vec![[r.base.lon, r.base.lat]];
        line.extend(r.stops.iter().map(|s| [s.lon, s.lat]));
        line.push([r.base.lon, r.base.lat]);
        features.push(serde_json::json!({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": line},
            "properties": {"kind": "route", "team": r.team, "team_id": r.team_id, "day": r.day, "travel_s": r.travel_s, "back_at": r.back_at},
        }));
        for s in &r.stops {
            features.push(serde_json::json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                "properties": {"kind": "stop", "team": r.team, "day": r.day, "seq": s.seq, "site_id": s.site_id,
                               "name": s.name, "site_kind": s.kind, "start": s.start, "end": s.end, "priority": s.priority},
            }));
        }
    }
    serde_json::json!({"type": "FeatureCollection", "features": features})
}
