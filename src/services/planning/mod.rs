//! The planning service: ranked sites and teams from the store → a week instance → the solver →
//! a stored draft with reasons for what was left out. Shared by `jemput plan`, `demo` and the API.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::store::Db;
use serde::Serialize;

use crate::domain::region::Depth;
use crate::domain::{Coordinate, RegionCode, SiteKind, WeeklyHours};
use crate::planner;
use crate::planner::week::{self, CandidateInput, TeamInput, WeekSettings};
use crate::planner::{InstanceSite, TeamDayRef};
use crate::services::ranking::{self, RankError, Ranker};
use crate::store::plans::Stop;
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
    /// The server is at its bound of heavy work (searches and rankings running and waiting).
    #[error(transparent)]
    Busy(#[from] crate::heavy::Busy),
}

impl From<RankError> for PlanError {
    fn from(e: RankError) -> Self {
        match e {
            RankError::BadWeek(m) => PlanError::BadRequest(m),
            RankError::Store(s) => PlanError::Store(s),
            RankError::Busy(b) => PlanError::Busy(b),
            RankError::Shared(_, true) => PlanError::Busy(crate::heavy::Busy { retry_after_s: 1 }),
            RankError::Shared(m, false) => PlanError::Internal(m),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub time_limit_s: Option<f64>,
    pub seed: Option<u64>,
    /// Sites the coordinator asks for: candidates even when outside the top N.
    pub sites: Vec<i64>,
    /// The week's share of team time per indicator (percent); `None`: the region's configured
    /// shares (none by default).
    pub shares: Option<BTreeMap<String, f64>>,
}

/// How many unscheduled sites get a reason.
pub use crate::domain::plan::Changes;
pub use crate::store::plans::Plan as PlanHeader;

/// A plan's own record (no stops), or `None`.
pub async fn plan_header(db: &Db, id: i64) -> Result<Option<PlanHeader>, StoreError> {
    plans::load_plan(db, id).await
}

/// The versions of a region's weekly plans, newest week and version first.
pub async fn versions(
    db: &Db,
    region: &str,
    week: Option<&str>,
) -> Result<Vec<PlanHeader>, StoreError> {
    plans::list(db, region, week).await
}

pub const EXPLAINED: usize = 20;

/// The plan a re-plan starts from.
struct Base {
    plan: plans::Plan,
    stops: Vec<Stop>,
    /// Days before this one were worked: their visits stay as they were, nothing is added.
    frozen_before: chrono::NaiveDate,
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
    db: &Db,
    ranker: &Ranker,
    settings: &WeekSettings,
    region: &RegionCode,
    week_label: &str,
    options: &PlanOptions,
) -> Result<i64, PlanError> {
    make::make_plan(db, ranker, settings, region, week_label, options, None)
        .await
        .map(|(id, _)| id)
}

/// Re-plan a stored plan's week: completed visits (days before `as_of`, or logged) and pins
/// stay; the rest starts where it was and moves only for more priority. A new draft version.
pub async fn replan(
    db: &Db,
    ranker: &Ranker,
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
    let stats = &stored.plan.stats;
    // A plan focused on a kecamatan or desa is re-planned with the same focus.
    let region = RegionCode::parse(
        stats["focus"]
            .as_str()
            .unwrap_or(stored.plan.region_code.as_str()),
    )
    .map_err(PlanError::Internal)?;
    let week = stored.plan.week.clone();
    // The re-planned plan's shares hold unless the coordinator gives new ones.
    let mut options = options.clone();
    if options.shares.is_none() {
        options.shares = serde_json::from_value(stats["shares"]["target"].clone()).ok();
    }
    let options = &options;
    let base = Base {
        plan: stored.plan,
        stops: stored.stops,
        frozen_before: as_of,
    };
    make::make_plan(db, ranker, settings, &region, &week, options, Some(base)).await
}

/// The teams of a kabupaten/kota as the week builder sees them: their resources from their own
/// record, else the configured defaults.
async fn team_inputs(
    db: &Db,
    kabupaten: &RegionCode,
    settings: &WeekSettings,
) -> Result<Vec<TeamInput>, PlanError> {
    let rows = plans::teams_of(db, kabupaten.as_str()).await?;
    if rows.is_empty() {
        return Err(PlanError::BadRequest(format!(
            "tidak ada tim di {kabupaten} / no team based in {kabupaten}"
        )));
    }
    let default = |r: &str| settings.default_resources.get(r).copied().unwrap_or(1);
    Ok(rows
        .iter()
        .filter_map(|t| {
            let resources = BTreeMap::from([
                ("kit".to_string(), t.kits.max(1) as u32),
                (
                    "printer".to_string(),
                    t.printers
                        .map(|n| n.max(1) as u32)
                        .unwrap_or(default("printer")),
                ),
                (
                    "phone".to_string(),
                    t.phones
                        .map(|n| n.max(1) as u32)
                        .unwrap_or(default("phone")),
                ),
            ]);
            Some(TeamInput {
                id: t.id,
                name: t.name.clone(),
                base: Coordinate::new(t.base_lat, t.base_lon).ok()?,
                capabilities: crate::domain::site::parse_capabilities(&t.capabilities).ok()?,
                hours: WeeklyHours::parse(&t.working_hours).ok()?,
                resources,
            })
        })
        .collect())
}

/// Every ranked site with something to gain (and the wanted ones) as a candidate: expected people
/// and priority per indicator. Hours and calendar days are filled in for the chosen ones.
fn candidate_inputs(ranking: &ranking::Ranking, wanted: &HashSet<i64>) -> Vec<CandidateInput> {
    ranking
        .items
        .iter()
        .filter(|i| i.score > 0.0 || wanted.contains(&i.site.id))
        .filter_map(|i| {
            let scale = i.factors.recency * i.factors.fairness;
            Some(CandidateInput {
                site_id: i.site.id,
                kind: SiteKind::parse(&i.site.kind).ok()?,
                region: i.site.region_code.clone(),
                coordinate: Coordinate::new(i.site.lat, i.site.lon).ok()?,
                hours: None,
                people: i
                    .expected_people
                    .iter()
                    .filter(|(_, v)| **v > 0.0)
                    .map(|(k, v)| (k.clone(), *v))
                    .collect(),
                value: i
                    .factors
                    .terms
                    .iter()
                    .map(|t| (t.indicator.to_string(), t.value * scale))
                    .collect(),
                closed: Vec::new(),
            })
        })
        .collect()
}

/// `12:00–13:00`, or `null` without a break.
fn clock_text(clock: &week::WorkClock) -> serde_json::Value {
    if clock.break_len == 0 {
        return serde_json::Value::Null;
    }
    serde_json::json!({
        "start": planner_time(clock.break_start),
        "end": planner_time(clock.break_start + clock.break_len),
    })
}

/// Reasons for the best unserved visits; several parts of one site count once, so explain
/// enough of them to name twenty sites (and every part of a site that is partly planned).
fn explain_unserved(
    problem: &planner::Problem,
    instance: &planner::Instance,
    plan: &planner::Plan,
    scores: &HashMap<i64, f64>,
) -> Vec<(usize, planner::Why)> {
    let site_of = |key: &str| key.split(['#', '@']).next().unwrap_or_default().to_string();
    let served: HashSet<String> = plan
        .routes
        .iter()
        .flat_map(|r| r.stops.iter().map(|s| s.site.clone()))
        .collect();
    let served_sites: HashSet<String> = served.iter().map(|k| site_of(k)).collect();
    let mut order: Vec<usize> = (0..problem.n_sites())
        .filter(|&s| !served.contains(&problem.site_ids[s]))
        .collect();
    // The sites the ranking puts first are explained first (a site's parts and sessions each
    // carry only a share of its priority).
    let worth_of = |s: usize| {
        site_of(&problem.site_ids[s])
            .parse::<i64>()
            .ok()
            .and_then(|id| scores.get(&id).copied())
            .unwrap_or(0.0)
    };
    // Of a site's session lengths, the most valuable speaks for it.
    order.sort_by(|&a, &b| {
        worth_of(b)
            .total_cmp(&worth_of(a))
            .then(problem.prize[b].cmp(&problem.prize[a]))
            .then(a.cmp(&b))
    });
    let mut named = HashSet::new();
    let chosen: Vec<usize> = order
        .into_iter()
        .filter(|&s| {
            let site = site_of(&problem.site_ids[s]);
            served_sites.contains(&site) || (named.len() < EXPLAINED && named.insert(site))
        })
        .collect();
    planner::why_unserved(problem, instance, plan, &chosen)
}

/// The solved routes as stored stops, on the wall clock (the break put back), and a summary per
/// route (travel, back at base, the break).
fn stored_stops(
    outcome: &planner::Outcome,
    legs: &[(Vec<u32>, u32, u32)],
    visit_by_key: &HashMap<&str, &week::VisitSpec>,
    pinned: &HashSet<&str>,
    teams: &[TeamInput],
    clock: week::WorkClock,
    week_start: chrono::NaiveDate,
) -> Result<(Vec<plans::NewStop>, Vec<serde_json::Value>), PlanError> {
    use chrono::Datelike;
    // Stored to the second: a re-plan keeps completed visits at exactly these times.
    let wall = |t: &str, f: fn(&week::WorkClock, u32) -> u32| {
        crate::planner::format_hms(f(&clock, crate::planner::parse_hms(t).unwrap_or(0)))
    };
    let wall_end = |t: &str| wall(t, week::WorkClock::end_to_wall);
    let wall_start = |t: &str| wall(t, week::WorkClock::start_to_wall);
    let mut stops = Vec::new();
    let mut routes_summary = Vec::new();
    for (route, leg) in outcome.plan.routes.iter().zip(legs) {
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
                arrive: wall_end(&stop.arrive),
                start: wall_start(&stop.start),
                end: wall_end(&stop.end),
                travel_from_prev_s: leg.0[seq] as i32,
                people: v.people.clone(),
                priority: v.priority,
                pinned: pinned.contains(stop.site.as_str()),
                // Set by the blangko and printer limits once every route is known.
                cards: BTreeMap::new(),
                task: v.task.clone(),
            });
        }
        // The team's wall-clock day, to say whether it takes the break.
        let team = teams.iter().find(|t| t.id == team_id);
        let weekday = day.weekday().num_days_from_monday() as usize;
        let breaks = team.is_some_and(|t| {
            let hours = t.hours.intervals(weekday);
            match (hours.first(), hours.last()) {
                (Some(a), Some(b)) => clock.breaks(u32::from(a.0) * 60, u32::from(b.1) * 60),
                _ => false,
            }
        }) && (day - week_start).num_days() < 7;
        routes_summary.push(serde_json::json!({
            "team_id": team_id, "day": route.day, "travel_s": leg.0.iter().sum::<u32>() + leg.1,
            "return_travel_s": leg.1, "back_at": planner_time(clock.end_to_wall(leg.2)),
            "break": if breaks { clock_text(&clock) } else { serde_json::Value::Null },
        }));
    }
    Ok((stops, routes_summary))
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

mod answers;
mod carry;
mod changes;
mod consumables;
mod make;
mod pins;
mod view;

use carry::{apply_pins, count_changes, keep_completed, remainders};
pub use changes::{ChangeList, ChangedVisit, change_list};
pub use pins::{PinInput, pins, set_pins};

pub use view::{
    BaseView, BreakView, NoteView, PlanView, RemainderView, RouteView, StopView, Totals,
    UnscheduledView, geojson, view, why_text,
};
