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
use crate::store::entity::plan_stops;
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
    stops: Vec<plan_stops::Model>,
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
    let stats: serde_json::Value = serde_json::from_str(&stored.plan.stats).unwrap_or_default();
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

/// Completed visits go back in exactly as they were: their own time (on the work clock) as the
/// only window, pinned to their team-day.
async fn keep_completed(
    db: &Db,
    b: &Base,
    completed: &[&plan_stops::Model],
    instance: &mut planner::Instance,
    visits: &mut Vec<week::VisitSpec>,
    clock: week::WorkClock,
) -> Result<(), PlanError> {
    let team_day = |team_id: i64, day: chrono::NaiveDate| TeamDayRef {
        team: team_id.to_string(),
        day: day.to_string(),
        seq: None,
    };
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
    let rows =
        plans::sites_by_id(db, &completed.iter().map(|s| s.site_id).collect::<Vec<_>>()).await?;
    for s in completed {
        let key = visit_key(s.site_id, s.part, s.parts);
        let at = team_day(s.team_id, s.day);
        if !working.contains(&(at.team.clone(), at.day.clone())) {
            continue; // a day that is no longer worked (a new holiday): nothing to keep.
        }
        let Some(site) = rows.get(&s.site_id) else {
            continue;
        };
        let work = |t: &str| clock.to_work(crate::planner::parse_hms(t).unwrap_or(0));
        let (open, close) = (work(&s.start), work(&s.end));
        let service_min = f64::from(close.saturating_sub(open)) / 60.0;
        instance.sites.push(InstanceSite {
            id: key.clone(),
            lat: site.lat,
            lon: site.lon,
            service_min,
            priority: s.priority,
            windows: Some(vec![crate::planner::Window {
                day: at.day.clone(),
                open: crate::planner::format_hms(open),
                close: crate::planner::format_hms(close),
            }]),
            teams: None,
            pin: Some(at.clone()),
            previous: Some(at),
            service_by_team: None,
            group: None,
            choice: None,
        });
        let people: BTreeMap<String, f64> = serde_json::from_str(&s.people).unwrap_or_default();
        visits.push(week::VisitSpec {
            key,
            site_id: s.site_id,
            part: s.part as usize,
            parts: s.parts as usize,
            site_people: people.clone(),
            people,
            limit: None,
            value: BTreeMap::new(),
            work: BTreeMap::new(),
            service: BTreeMap::from([(s.team_id, service_min)]),
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
    // A walk-in site's session: the one closest in length to the session it had.
    let mut sessions: HashMap<i64, (usize, f64)> = HashMap::new();
    for (i, site) in instance.sites.iter().enumerate() {
        let Some(id) = site.choice.as_ref().and_then(|c| c.parse::<i64>().ok()) else {
            continue;
        };
        let Some(stop) = b.stops.iter().find(|s| s.site_id == id) else {
            continue;
        };
        let had = |t: &str| f64::from(clock.to_work(crate::planner::parse_hms(t).unwrap_or(0)));
        let length = (had(&stop.end) - had(&stop.start)) / 60.0;
        let offered = site
            .service_by_team
            .as_ref()
            .and_then(|m| m.get(&stop.team_id.to_string()).copied())
            .unwrap_or(site.service_min);
        let gap = (offered - length).abs();
        if sessions.get(&id).is_none_or(|(_, g)| gap < *g) {
            sessions.insert(id, (i, gap));
        }
    }
    for (id, (i, _)) in sessions {
        instance.sites[i].previous = previous.get(&id.to_string()).cloned();
    }
    for site in &mut instance.sites {
        if site.previous.is_none() && site.choice.is_none() {
            site.previous = previous.get(&site.id).cloned();
        }
    }
    Ok(())
}

/// The coordinator's pins onto the instance's visits; pins that name no visit or a day the
/// team does not work are a conflict.
fn apply_pins(
    pins: &[crate::store::entity::plan_pins::Model],
    visits: &[week::VisitSpec],
    completed_keys: &HashSet<String>,
    instance: &mut planner::Instance,
) -> Result<(), PlanError> {
    let mut pin_errors = Vec::new();
    for pin in pins {
        let at = TeamDayRef {
            team: pin.team_id.to_string(),
            day: pin.day.to_string(),
            seq: None,
        };
        // For a walk-in site, the longest of its sessions (they come in increasing length).
        let Some(v) = visits
            .iter()
            .rfind(|v| v.site_id == pin.site_id && v.part == pin.part as usize)
        else {
            let done = completed_keys.iter().any(|k| {
                k == &pin.site_id.to_string()
                    || k.starts_with(&format!("{}#{}", pin.site_id, pin.part))
            });
            if !done {
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
    if pin_errors.is_empty() {
        Ok(())
    } else {
        Err(PlanError::Conflict(pin_errors.join("; ")))
    }
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
                people: serde_json::to_string(&v.people).unwrap_or_default(),
                priority: v.priority,
                pinned: pinned.contains(stop.site.as_str()),
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

/// "Sisa": what a site with planned visits still needs — parts left unplanned (a re-plan after
/// some were done), the people beyond one walk-in session, or beyond the most days one site may
/// take — with the reason.
fn remainders(
    stops: &[plans::NewStop],
    visits: &[week::VisitSpec],
    unplanned_parts: &HashMap<i64, serde_json::Value>,
) -> Vec<serde_json::Value> {
    let mut planned: BTreeMap<i64, (BTreeMap<String, f64>, HashSet<i32>)> = BTreeMap::new();
    for stop in stops {
        let entry = planned.entry(stop.site_id).or_default();
        let people: BTreeMap<String, f64> = serde_json::from_str(&stop.people).unwrap_or_default();
        for (k, n) in people {
            *entry.0.entry(k).or_default() += n;
        }
        entry.1.insert(stop.part);
    }
    let mut out = Vec::new();
    for (site_id, (people, parts)) in planned {
        let Some(spec) = visits.iter().find(|v| v.site_id == site_id) else {
            continue;
        };
        let rest: BTreeMap<String, f64> = spec
            .site_people
            .iter()
            .map(|(k, n)| {
                (
                    k.clone(),
                    ((n - people.get(k).copied().unwrap_or(0.0)) * 10.0).round() / 10.0,
                )
            })
            .filter(|(_, n)| *n >= 0.5)
            .collect();
        if rest.is_empty() {
            continue;
        }
        let missing: Vec<usize> = visits
            .iter()
            .filter(|v| v.site_id == site_id && v.parts > 1 && !parts.contains(&(v.part as i32)))
            .map(|v| v.part)
            .collect();
        let why = if !missing.is_empty() {
            unplanned_parts
                .get(&site_id)
                .cloned()
                .unwrap_or(serde_json::json!({"reason": "crowded_out", "displaced_priority": null}))
        } else {
            match &spec.limit {
                Some(week::Limit::Session { max_min }) => {
                    serde_json::json!({"reason": "session", "session_min": max_min})
                }
                Some(week::Limit::MaxParts { needed, max }) => {
                    serde_json::json!({"reason": "max_parts", "parts_needed": needed, "max_parts": max})
                }
                // Kept from a re-planned version: what its visit did not take stays a candidate.
                None => serde_json::json!({"reason": "kept"}),
            }
        };
        out.push(serde_json::json!({
            "site_id": site_id,
            "people": rest,
            "parts": missing,
            "why": why,
        }));
    }
    out
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
    db: &Db,
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
pub async fn pins(db: &Db, plan_id: i64) -> Result<Option<Vec<PinInput>>, PlanError> {
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

mod make;
mod view;

pub use view::{
    BaseView, BreakView, NoteView, PlanView, RemainderView, RouteView, StopView, Totals,
    UnscheduledView, geojson, view, why_text,
};
