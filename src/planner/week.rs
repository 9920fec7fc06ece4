//! From the database's facts to a planning instance for one ISO week (pure): team-days from
//! working hours, holidays, the short Friday and the midday break; candidate visits from ranked
//! sites with service times from each team's own resources; opening windows from site hours or
//! the kind's default, closed on the school calendar's days; visits too long for one day split
//! into parts that one team serves on consecutive working days.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::problem::{GroupRef, Instance, InstanceSite, InstanceTeam, Point, TeamDay, Window};
use crate::domain::{Capability, Coordinate, SiteKind, WeeklyHours};

fn default_max_time_limit_s() -> f64 {
    120.0
}

/// `[planner]` settings; defaults and reasons in `config/default.toml`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeekSettings {
    /// How many sites are candidates (the best by priority per minute of service and travel).
    pub candidates: usize,
    /// Minutes to set up at a site.
    pub setup_min: f64,
    /// Minutes per person on one unit of the indicator's resource.
    pub minutes_per_person: BTreeMap<String, f64>,
    /// The team resource each indicator's work uses (`kit`, `printer`, `phone`). Different
    /// resources work at the same time; people of indicators sharing a resource queue for it.
    pub resources: BTreeMap<String, String>,
    /// How many of a resource a team has when its own record does not say (`kit` always comes
    /// from the team's kits; `phone` defaults to the team's members).
    pub default_resources: BTreeMap<String, u32>,
    /// Most consecutive days one site may take; what still does not fit is reported as "sisa".
    pub max_parts: usize,
    /// Walk-in sites (kind → minutes): one session a week of at most this long, wherever the
    /// residents come to the team; what a session cannot take is reported as "sisa".
    #[serde(default)]
    pub session_min: BTreeMap<String, f64>,
    pub speed_kmh: f64,
    pub road_factor: f64,
    /// National holidays and cuti bersama: no team works.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// Friday ends by this time for Friday prayer (`HH:MM`).
    pub friday_end: String,
    /// The midday break (ishoma): every team-day that spans it stops for `break_min` minutes
    /// from `break_start`; no visit or travel runs through it. `break_min = 0`: no break.
    pub break_start: String,
    pub break_min: u32,
    /// Opening hours per kind of site when a site has none of its own.
    pub default_hours: BTreeMap<String, String>,
    pub time_limit_s: f64,
    /// The most search time one request may have: a longer `time_limit_s` asked for is cut to
    /// it (an operator's bound on how long one plan can hold a core).
    #[serde(default = "default_max_time_limit_s")]
    pub max_time_limit_s: f64,
    pub seed: u64,
    /// The week's share of team time per indicator (percent), unless a region says otherwise.
    #[serde(default)]
    pub shares: BTreeMap<String, f64>,
    /// Per region code (the most specific prefix wins): travel and shares.
    #[serde(default)]
    pub regions: BTreeMap<String, RegionSettings>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegionSettings {
    pub speed_kmh: Option<f64>,
    pub road_factor: Option<f64>,
    pub shares: Option<BTreeMap<String, f64>>,
}

impl WeekSettings {
    /// These settings with the travel and shares of `region`'s most specific entries.
    pub fn for_region(&self, region: &crate::domain::RegionCode) -> WeekSettings {
        let mut out = self.clone();
        // Coarsest first, so that a kabupaten's entry overrides its province's.
        for code in region.lineage().into_iter().rev() {
            if let Some(t) = self.regions.get(code.as_str()) {
                out.speed_kmh = t.speed_kmh.unwrap_or(out.speed_kmh);
                out.road_factor = t.road_factor.unwrap_or(out.road_factor);
                if let Some(s) = &t.shares {
                    out.shares = s.clone();
                }
            }
        }
        out
    }

    pub fn validate(&self) -> Result<(), String> {
        let positive = |name: &str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(format!("planner.{name}: harus > 0, bukan {v}"))
            }
        };
        positive("speed_kmh", self.speed_kmh)?;
        positive("road_factor", self.road_factor)?;
        positive("time_limit_s", self.time_limit_s)?;
        if self.setup_min < 0.0 || self.max_parts == 0 || self.candidates == 0 {
            return Err(
                "planner.setup_min ≥ 0, planner.max_parts ≥ 1 dan planner.candidates ≥ 1".into(),
            );
        }
        for (code, t) in &self.regions {
            crate::domain::RegionCode::parse(code)
                .map_err(|e| format!("planner.regions.{code}: {e}"))?;
            for v in [t.speed_kmh, t.road_factor].into_iter().flatten() {
                positive(&format!("regions.{code}"), v)?;
            }
            if let Some(s) = &t.shares {
                validate_shares(s).map_err(|e| format!("planner.regions.{code}.shares: {e}"))?;
            }
        }
        validate_shares(&self.shares).map_err(|e| format!("planner.shares: {e}"))?;
        for (k, v) in &self.minutes_per_person {
            positive(&format!("minutes_per_person.{k}"), *v)?;
        }
        for (indicator, resource) in &self.resources {
            if !RESOURCES.contains(&resource.as_str()) {
                return Err(format!(
                    "planner.resources.{indicator}: {resource:?} bukan salah satu dari {}",
                    RESOURCES.join(", ")
                ));
            }
        }
        for (resource, n) in &self.default_resources {
            if !RESOURCES.contains(&resource.as_str()) || *n == 0 {
                return Err(format!(
                    "planner.default_resources.{resource}: sumber daya dikenal ({}) dengan jumlah ≥ 1",
                    RESOURCES.join(", ")
                ));
            }
        }
        super::problem::parse_hms(&self.friday_end)
            .map_err(|e| format!("planner.friday_end: {e}"))?;
        super::problem::parse_hms(&self.break_start)
            .map_err(|e| format!("planner.break_start: {e}"))?;
        if self.break_min >= 24 * 60 {
            return Err("planner.break_min: harus kurang dari sehari".into());
        }
        for (kind, m) in &self.session_min {
            SiteKind::parse(kind).map_err(|e| format!("planner.session_min.{kind}: {e}"))?;
            if !(m.is_finite() && *m > self.setup_min) {
                return Err(format!(
                    "planner.session_min.{kind}: harus lebih dari setup_min"
                ));
            }
        }
        for (kind, hours) in &self.default_hours {
            SiteKind::parse(kind).map_err(|e| format!("planner.default_hours.{kind}: {e}"))?;
            WeeklyHours::parse(hours).map_err(|e| format!("planner.default_hours.{kind}: {e}"))?;
        }
        Ok(())
    }

    /// The break as a clock mapping.
    pub fn work_clock(&self) -> WorkClock {
        WorkClock {
            break_start: super::problem::parse_hms(&self.break_start).unwrap_or(12 * 3600),
            break_len: self.break_min * 60,
        }
    }
}

/// Resources a team has; each indicator's work uses one of them.
pub const RESOURCES: &[&str] = &["kit", "printer", "phone"];

/// Shares are percentages of team time per known indicator, summing to at most 100.
pub fn validate_shares(shares: &BTreeMap<String, f64>) -> Result<(), String> {
    for (indicator, v) in shares {
        crate::domain::coverage::Indicator::parse(indicator)?;
        if !(0.0..=100.0).contains(v) {
            return Err(format!("{indicator}: persen harus 0..100, bukan {v}"));
        }
    }
    let total: f64 = shares.values().sum();
    if total > 100.0 + 1e-9 {
        return Err(format!("jumlah bagian {total} melebihi 100"));
    }
    Ok(())
}

/// Parse `kia=40,ktp_el=20` (the CLI's `--shares`).
pub fn parse_shares(s: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?}: tulis indikator=persen, contoh kia=40"))?;
        let v: f64 = v
            .trim()
            .parse()
            .map_err(|_| format!("{part:?}: persen bukan angka"))?;
        out.insert(k.trim().to_string(), v);
    }
    validate_shares(&out)?;
    Ok(out)
}

/// The midday break taken out of the day: the instance is solved on a clock that skips
/// `[break_start, break_start + break_len)`, so no service or travel runs through the break and
/// the solver needs to know nothing about it. Times map back to the wall clock for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WorkClock {
    /// Seconds after midnight.
    pub break_start: u32,
    pub break_len: u32,
}

impl WorkClock {
    /// Wall clock → work clock: a time inside the break is the break's start.
    pub fn to_work(&self, t: u32) -> u32 {
        if t <= self.break_start {
            t
        } else if t < self.break_start + self.break_len {
            self.break_start
        } else {
            t - self.break_len
        }
    }

    /// A start (departure, service start) on the work clock → wall clock: at the break's start
    /// it begins after the break.
    pub fn start_to_wall(&self, t: u32) -> u32 {
        if t < self.break_start {
            t
        } else {
            t + self.break_len
        }
    }

    /// An end (arrival, service end) on the work clock → wall clock: at the break's start it ended
    /// before the break.
    pub fn end_to_wall(&self, t: u32) -> u32 {
        if t <= self.break_start {
            t
        } else {
            t + self.break_len
        }
    }

    /// Whether a wall-clock day from `start` to `end` takes the break.
    pub fn breaks(&self, start: u32, end: u32) -> bool {
        self.break_len > 0 && start < self.break_start && end > self.break_start + self.break_len
    }
}

#[derive(Debug, Clone)]
pub struct TeamInput {
    pub id: i64,
    pub name: String,
    pub base: Coordinate,
    pub capabilities: Vec<Capability>,
    pub hours: WeeklyHours,
    /// Count per resource (`kit`, `printer`, `phone`).
    pub resources: BTreeMap<String, u32>,
}

#[derive(Debug, Clone)]
pub struct CandidateInput {
    pub site_id: i64,
    pub kind: SiteKind,
    /// The site's desa/kelurahan (or kecamatan) code: PAUD of one desa are chosen together.
    pub region: String,
    pub coordinate: Coordinate,
    /// `None`: the kind's default hours.
    pub hours: Option<WeeklyHours>,
    /// Expected people per indicator (from the ranking).
    pub people: BTreeMap<String, f64>,
    /// The site's priority per indicator (they add up to its score).
    pub value: BTreeMap<String, f64>,
    /// Days the school calendar closes the site, with the calendar entry's name.
    pub closed: Vec<(NaiveDate, String)>,
}

/// One visit of the instance: a site, or one part of a site that needs several days.
#[derive(Debug, Clone, Serialize)]
pub struct VisitSpec {
    /// Id in the instance: `"{site_id}"` or `"{site_id}#{part}"`.
    pub key: String,
    pub site_id: i64,
    pub part: usize,
    pub parts: usize,
    /// Expected people of this visit per indicator.
    pub people: BTreeMap<String, f64>,
    /// The site's expected people in all (its parts or one of its sessions take `people`).
    pub site_people: BTreeMap<String, f64>,
    /// What can leave people of a planned site for later (a session's length, the most days).
    pub limit: Option<Limit>,
    /// This visit's share of the site's priority, per indicator.
    pub value: BTreeMap<String, f64>,
    /// Minutes of work per indicator with each team's own resources (team id → indicator → min).
    pub work: BTreeMap<i64, BTreeMap<String, f64>>,
    /// Minutes on site per team that may serve it.
    pub service: BTreeMap<i64, f64>,
    /// Σ value.
    pub priority: f64,
}

impl VisitSpec {
    /// The visit's minutes on site with `team` split over its indicators in proportion to their
    /// work: how team time is attributed to indicators (setup included).
    pub fn minutes_by_indicator(&self, team: i64) -> BTreeMap<String, f64> {
        let (Some(work), Some(service)) = (self.work.get(&team), self.service.get(&team)) else {
            return BTreeMap::new();
        };
        let total: f64 = work.values().sum();
        work.iter()
            .map(|(k, w)| {
                let share = if total > 0.0 { w / total } else { 0.0 };
                (k.clone(), service * share)
            })
            .collect()
    }
}

/// Why a candidate is absent from the instance altogether.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Excluded {
    /// No team can serve every service the site needs.
    NoCapableTeam { capability: String },
    /// The site is open on no day and hour a team works this week.
    NoWindow,
    /// The school calendar closes the site on every day a team works this week.
    Calendar { name: String },
}

/// Why a site visited this week can still leave people for a later week.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Limit {
    /// A walk-in site gets one session a week, of at most `max_min` minutes.
    Session { max_min: f64 },
    /// It would need `needed` days; one site takes at most `max`.
    MaxParts { needed: usize, max: usize },
}

pub struct Week {
    pub instance: Instance,
    pub visits: Vec<VisitSpec>,
    pub excluded: Vec<(i64, Excluded)>,
    pub clock: WorkClock,
}

fn hm(seconds: u32) -> String {
    format!("{:02}:{:02}", seconds / 3600, (seconds % 3600) / 60)
}

fn capability_for(indicator: &str) -> Option<Capability> {
    Capability::parse(indicator).ok()
}

/// Travel seconds by the instance's rule (haversine × road factor ÷ speed).
fn travel_s(settings: &WeekSettings, a: Coordinate, b: Coordinate) -> u32 {
    let km = super::problem::haversine_km(a.lat(), a.lon(), b.lat(), b.lon());
    (km * settings.road_factor / settings.speed_kmh * 3600.0).round() as u32
}

/// Minutes of work per indicator for `team` at a site with `people`: people × minutes per
/// person ÷ the team's count of the indicator's resource.
fn work_of(
    people: &BTreeMap<String, f64>,
    team: &TeamInput,
    settings: &WeekSettings,
) -> BTreeMap<String, f64> {
    people
        .iter()
        .map(|(ind, n)| {
            let per = settings.minutes_per_person.get(ind).copied().unwrap_or(5.0);
            let resource = settings
                .resources
                .get(ind)
                .map(String::as_str)
                .unwrap_or("kit");
            let count = team.resources.get(resource).copied().unwrap_or(1).max(1);
            (ind.clone(), n * per / f64::from(count))
        })
        .collect()
}

/// Minutes the resources are busy: each resource works through its indicators' people, and
/// different resources work at the same time.
fn busy_minutes(work: &BTreeMap<String, f64>, settings: &WeekSettings) -> f64 {
    let mut by_resource: BTreeMap<&str, f64> = BTreeMap::new();
    for (ind, w) in work {
        let resource = settings
            .resources
            .get(ind)
            .map(String::as_str)
            .unwrap_or("kit");
        *by_resource.entry(resource).or_default() += w;
    }
    by_resource.values().copied().fold(0.0, f64::max)
}

/// Indicators with at least half a person expected: a visit serves these (and a team must be
/// able to serve all of them).
fn needed(people: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    people
        .iter()
        .filter(|(_, n)| **n >= 0.5)
        .map(|(k, n)| (k.clone(), *n))
        .collect()
}

fn capable<'a>(teams: &'a [TeamInput], people: &BTreeMap<String, f64>) -> Vec<&'a TeamInput> {
    teams
        .iter()
        .filter(|t| {
            people
                .keys()
                .all(|ind| capability_for(ind).is_none_or(|c| t.capabilities.contains(&c)))
        })
        .collect()
}

/// Team-days of the week on the work clock: working hours, holidays, the short Friday.
fn team_days(
    week_start: NaiveDate,
    teams: &[TeamInput],
    settings: &WeekSettings,
) -> Vec<InstanceTeam> {
    let friday_end = super::problem::parse_hms(&settings.friday_end).unwrap_or(11 * 3600 + 1800);
    let clock = settings.work_clock();
    teams
        .iter()
        .map(|t| {
            let mut out = Vec::new();
            for offset in 0..7 {
                let day = week_start + chrono::Duration::days(offset);
                if settings.holidays.contains(&day) {
                    continue;
                }
                let wd = day.weekday().num_days_from_monday() as usize;
                let intervals = t.hours.intervals(wd);
                let (Some(first), Some(last)) = (intervals.first(), intervals.last()) else {
                    continue;
                };
                let start = u32::from(first.0) * 60;
                let mut end = u32::from(last.1) * 60;
                if wd == 4 {
                    end = end.min(friday_end);
                }
                let (start, end) = (clock.to_work(start), clock.to_work(end));
                if end <= start {
                    continue;
                }
                out.push(TeamDay {
                    day: day.to_string(),
                    start: hm(start),
                    end: hm(end),
                    frozen: false,
                });
            }
            InstanceTeam {
                id: t.id.to_string(),
                base: Point {
                    lat: t.base.lat(),
                    lon: t.base.lon(),
                },
                days: out,
            }
        })
        .collect()
}

/// The days the teams work this week.
fn worked_days(team_days: &[InstanceTeam]) -> BTreeSet<NaiveDate> {
    team_days
        .iter()
        .flat_map(|t| t.days.iter().filter_map(|d| d.day.parse().ok()))
        .collect()
}

fn parsed_default_hours(settings: &WeekSettings) -> HashMap<&str, WeeklyHours> {
    settings
        .default_hours
        .iter()
        .filter_map(|(k, h)| Some((k.as_str(), WeeklyHours::parse(h).ok()?)))
        .collect()
}

/// A candidate's opening windows on the worked days, on the work clock: its own hours or its
/// kind's default, with the school calendar's closed days taken out. None open: why not.
fn open_windows(
    c: &CandidateInput,
    worked: &BTreeSet<NaiveDate>,
    default_hours: &HashMap<&str, WeeklyHours>,
    clock: WorkClock,
) -> Result<Vec<Window>, Excluded> {
    let Some(hours) = c.hours.as_ref().or(default_hours.get(c.kind.as_str())) else {
        return Err(Excluded::NoWindow);
    };
    let mut windows = Vec::new();
    let mut closed_by = None;
    for day in worked {
        let wd = day.weekday().num_days_from_monday() as usize;
        let open_today = hours.intervals(wd);
        if open_today.is_empty() {
            continue;
        }
        if let Some((_, name)) = c.closed.iter().find(|(d, _)| d == day) {
            closed_by.get_or_insert_with(|| name.clone());
            continue;
        }
        for (o, cl) in open_today {
            let (o, cl) = (
                clock.to_work(u32::from(*o) * 60),
                clock.to_work(u32::from(*cl) * 60),
            );
            if cl > o {
                windows.push(Window {
                    day: day.to_string(),
                    open: hm(o),
                    close: hm(cl),
                });
            }
        }
    }
    if !windows.is_empty() {
        return Ok(windows);
    }
    Err(match closed_by {
        Some(name) => Excluded::Calendar { name },
        None => Excluded::NoWindow,
    })
}

/// Build the week's instance. Deterministic: teams and candidates keep the order given.
pub fn build_week(
    week_start: NaiveDate,
    teams: &[TeamInput],
    candidates: &[CandidateInput],
    settings: &WeekSettings,
) -> Week {
    let clock = settings.work_clock();
    let team_days = team_days(week_start, teams, settings);
    let worked = worked_days(&team_days);
    let default_hours = parsed_default_hours(settings);
    let setup = settings.setup_min;

    let mut sites = Vec::new();
    let mut visits = Vec::new();
    let mut excluded = Vec::new();
    for c in candidates {
        let people = needed(&c.people);
        let able = capable(teams, &people);
        if able.is_empty() {
            let missing = people
                .keys()
                .find(|ind| {
                    capability_for(ind)
                        .is_some_and(|cap| !teams.iter().any(|t| t.capabilities.contains(&cap)))
                })
                .or_else(|| people.keys().next())
                .cloned()
                .unwrap_or_default();
            excluded.push((
                c.site_id,
                Excluded::NoCapableTeam {
                    capability: missing,
                },
            ));
            continue;
        }
        let windows = match open_windows(c, &worked, &default_hours, clock) {
            Ok(w) => w,
            Err(why) => {
                excluded.push((c.site_id, why));
                continue;
            }
        };
        // Per team: work and the longest time it can spend there in one day (seconds).
        let per_team: Vec<(&TeamInput, BTreeMap<String, f64>, f64, f64)> = able
            .iter()
            .map(|t| {
                let work = work_of(&people, t, settings);
                let busy = busy_minutes(&work, settings);
                let base_team = team_days.iter().find(|x| x.id == t.id.to_string());
                let to = f64::from(travel_s(settings, t.base, c.coordinate));
                let usable = base_team
                    .map(|bt| {
                        bt.days
                            .iter()
                            .flat_map(|d| {
                                let start = super::problem::parse_hms(&d.start).unwrap_or(0);
                                let end = super::problem::parse_hms(&d.end).unwrap_or(0);
                                windows
                                    .iter()
                                    .filter(move |w| w.day == d.day)
                                    .map(move |w| {
                                        let open = super::problem::parse_hms(&w.open).unwrap_or(0);
                                        let close =
                                            super::problem::parse_hms(&w.close).unwrap_or(0);
                                        let from = f64::from(open).max(f64::from(start) + to);
                                        let until = f64::from(close).min(f64::from(end) - to);
                                        (until - from) / 60.0
                                    })
                            })
                            .fold(0.0, f64::max)
                    })
                    .unwrap_or(0.0);
                (*t, work, busy, usable)
            })
            .collect();
        let allowed: Option<Vec<String>> =
            (able.len() < teams.len()).then(|| able.iter().map(|t| t.id.to_string()).collect());
        for v in variants(c, &per_team, settings) {
            let work: BTreeMap<i64, BTreeMap<String, f64>> = per_team
                .iter()
                .map(|(t, w, _, _)| {
                    (
                        t.id,
                        w.iter().map(|(k, x)| (k.clone(), x * v.share)).collect(),
                    )
                })
                .collect();
            // Whole minutes, rounded up: the field needs the time, not a fraction of it.
            let service: BTreeMap<i64, f64> = per_team
                .iter()
                .map(|(t, _, busy, _)| (t.id, (setup + busy * v.share).ceil()))
                .collect();
            let value: BTreeMap<String, f64> = c
                .value
                .iter()
                .filter(|(k, _)| people.contains_key(*k))
                .map(|(k, x)| (k.clone(), x * v.share))
                .collect();
            let priority = value.values().sum();
            let slowest = service.values().copied().fold(0.0, f64::max);
            sites.push(InstanceSite {
                id: v.key.clone(),
                lat: c.coordinate.lat(),
                lon: c.coordinate.lon(),
                service_min: slowest,
                priority: round2(priority),
                windows: Some(windows.clone()),
                teams: allowed.clone(),
                pin: None,
                previous: None,
                service_by_team: Some(service.iter().map(|(t, m)| (t.to_string(), *m)).collect()),
                group: (v.parts > 1).then(|| GroupRef {
                    id: c.site_id.to_string(),
                    part: v.part as u32,
                }),
                choice: v.choice.then(|| c.site_id.to_string()),
            });
            visits.push(VisitSpec {
                key: v.key,
                site_id: c.site_id,
                part: v.part,
                parts: v.parts,
                people: people
                    .iter()
                    .map(|(k, x)| (k.clone(), round1(x * v.share)))
                    .collect(),
                site_people: people.clone(),
                limit: v.limit.clone(),
                value,
                work,
                service,
                priority,
            });
        }
    }
    Week {
        instance: Instance {
            name: format!("week-{week_start}"),
            speed_kmh: settings.speed_kmh,
            road_factor: settings.road_factor,
            teams: team_days,
            sites,
        },
        visits,
        excluded,
        clock,
    }
}

/// One visit a site is offered as: a part of a multi-day visit, one of a walk-in site's
/// session lengths, or the whole site.
struct Variant {
    key: String,
    part: usize,
    parts: usize,
    /// The share of the site's people it takes.
    share: f64,
    /// One of several session lengths (alternatives: at most one is served).
    choice: bool,
    limit: Option<Limit>,
}

/// The shortest session a walk-in site is offered in, and the step between session lengths.
const SESSION_FIRST_MIN: f64 = 60.0;
const SESSION_STEP_MIN: f64 = 30.0;

/// The visits a site is offered as. Parts: as few as the best team needs with its own longest
/// day, never more than `max_parts`. A walk-in site: sessions of 60, 120, … minutes up to
/// `session_min` (or until the whole demand fits), of which the planner takes at most one.
fn variants(
    c: &CandidateInput,
    per_team: &[(&TeamInput, BTreeMap<String, f64>, f64, f64)],
    settings: &WeekSettings,
) -> Vec<Variant> {
    let setup = settings.setup_min;
    if let Some(session) = settings.session_min.get(c.kind.as_str()) {
        let busy = per_team
            .iter()
            .map(|(_, _, busy, _)| *busy)
            .fold(f64::INFINITY, f64::min)
            .max(1e-9);
        let mut out = Vec::new();
        let mut length = SESSION_FIRST_MIN;
        loop {
            let length_now = length.min(*session);
            let share = ((length_now - setup) / busy).min(1.0);
            if share > 0.0 {
                // The whole demand fits: the session is as long as it needs to be.
                let minutes = if share >= 1.0 {
                    (setup + busy).ceil()
                } else {
                    length_now
                };
                out.push(Variant {
                    key: format!("{}@{minutes}", c.site_id),
                    part: 1,
                    parts: 1,
                    share,
                    choice: true,
                    limit: Some(Limit::Session { max_min: *session }),
                });
            }
            if share >= 1.0 || length_now >= *session {
                break;
            }
            length += SESSION_STEP_MIN;
        }
        return out;
    }
    // A minute of margin: service times are rounded up to whole minutes.
    let best = per_team
        .iter()
        .map(|(_, _, busy, usable)| (busy, usable.floor() - setup - 1.0))
        .filter(|(_, room)| *room > 0.0)
        .map(|(busy, room)| busy / room)
        .min_by(|a, b| a.total_cmp(b));
    let load = best.unwrap_or(0.0);
    let needed = (load.ceil() as usize).max(1);
    let parts = needed.min(settings.max_parts);
    // The share of the site's people the planned parts take.
    let covered = if needed > parts {
        (parts as f64 / load).min(1.0)
    } else {
        1.0
    };
    (1..=parts)
        .map(|part| Variant {
            key: if parts == 1 {
                c.site_id.to_string()
            } else {
                format!("{}#{part}", c.site_id)
            },
            part,
            parts,
            share: covered / parts as f64,
            choice: false,
            limit: (needed > parts).then_some(Limit::MaxParts {
                needed,
                max: settings.max_parts,
            }),
        })
        .collect()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Priorities are estimates: two decimals are plenty, and a tiny difference must not outweigh
/// minutes of travel.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// How many sites closed all week (calendar, hours) are kept among the candidates so that the
/// plan can say why the best of them are not visited.
const CLOSED_EXPLAINED: usize = 20;

/// The candidates of a week, best first: among the sites open this week, the most priority per
/// minute of service (with the fastest able team) plus the round trip from the nearest base.
/// PAUD, TK and RA of one desa count together, as a morning's round of short KIA stops shares
/// one trip. Sites open in the afternoon get the afternoons' share of the places, since a
/// school that closes at noon cannot use them. With shares, the best sites per minute for each
/// shared indicator are added too. `wanted` are always in, and so are the highest-priority
/// closed sites (to be explained).
pub fn select_candidates(
    candidates: &[CandidateInput],
    teams: &[TeamInput],
    settings: &WeekSettings,
    wanted: &HashSet<i64>,
    week_start: NaiveDate,
) -> Vec<usize> {
    let setup = settings.setup_min;
    let days = team_days(week_start, teams, settings);
    let worked = worked_days(&days);
    let default_hours = parsed_default_hours(settings);
    let clock = settings.work_clock();
    let windows: Vec<Option<Vec<Window>>> = candidates
        .iter()
        .map(|c| open_windows(c, &worked, &default_hours, clock).ok())
        .collect();
    let open: Vec<bool> = windows.iter().map(Option::is_some).collect();
    // Open after midday (past the break on the work clock): most schools close by then, so the
    // afternoons have their own, smaller market.
    let noon = clock.break_start;
    let afternoon: Vec<bool> = windows
        .iter()
        .map(|w| {
            w.as_ref().is_some_and(|w| {
                w.iter()
                    .any(|x| super::problem::parse_hms(&x.close).is_ok_and(|c| c > noon))
            })
        })
        .collect();
    // The afternoons' share of the teams' working minutes.
    let (mut all_min, mut after_min) = (0u32, 0u32);
    for d in days.iter().flat_map(|t| &t.days) {
        let (start, end) = (
            super::problem::parse_hms(&d.start).unwrap_or(0),
            super::problem::parse_hms(&d.end).unwrap_or(0),
        );
        all_min += end.saturating_sub(start);
        after_min += end.saturating_sub(start.max(noon));
    }
    let afternoon_share = if all_min > 0 {
        f64::from(after_min) / f64::from(all_min)
    } else {
        0.0
    };
    // (minutes of service with the fastest able team, shortest round trip, the share of the
    // site's priority that service earns) per candidate: a walk-in site counts its longest
    // session, not its whole demand.
    let cost: Vec<Option<(f64, f64)>> = candidates
        .iter()
        .map(|c| {
            let people = needed(&c.people);
            capable(teams, &people)
                .into_iter()
                .map(|t| {
                    let busy = busy_minutes(&work_of(&people, t, settings), settings);
                    let trip = 2.0 * f64::from(travel_s(settings, t.base, c.coordinate)) / 60.0;
                    (setup + busy, trip)
                })
                .reduce(|a, b| (a.0.min(b.0), a.1.min(b.1)))
        })
        .collect();
    let session_share: Vec<f64> = candidates
        .iter()
        .zip(&cost)
        .map(
            |(c, cost)| match (settings.session_min.get(c.kind.as_str()), cost) {
                (Some(session), Some((service, _))) if service > session => {
                    ((session - setup) / (service - setup).max(1e-9)).clamp(0.0, 1.0)
                }
                _ => 1.0,
            },
        )
        .collect();
    let cost: Vec<Option<(f64, f64)>> = cost
        .iter()
        .zip(candidates)
        .map(|(cost, c)| {
            cost.map(|(service, trip)| {
                let session = settings.session_min.get(c.kind.as_str()).copied();
                (session.map_or(service, |s| service.min(s)), trip)
            })
        })
        .collect();
    let value_of: Vec<f64> = candidates
        .iter()
        .zip(&session_share)
        .map(|(c, share)| c.value.values().sum::<f64>() * share)
        .collect();
    let index_of: HashMap<i64, usize> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.site_id, i))
        .collect();
    let value = |c: &CandidateInput| value_of[index_of[&c.site_id]];
    let mut rate: Vec<f64> = candidates
        .iter()
        .zip(&cost)
        .zip(&open)
        .map(|((c, cost), open)| match cost {
            Some((service, trip)) if *open => value(c) / (service + trip).max(1.0),
            _ => 0.0,
        })
        .collect();
    // A desa's PAUD/TK/RA as one round: one trip for all of them.
    let mut rounds: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in candidates.iter().enumerate() {
        if matches!(c.kind, SiteKind::Paud | SiteKind::Tk | SiteKind::Ra) && rate[i] > 0.0 {
            rounds.entry(c.region.as_str()).or_default().push(i);
        }
    }
    for members in rounds.values().filter(|m| m.len() > 1) {
        let total: f64 = members.iter().map(|&i| value(&candidates[i])).sum();
        let service: f64 = members
            .iter()
            .map(|&i| cost[i].map(|c| c.0).unwrap_or(0.0))
            .sum();
        let trip = members
            .iter()
            .filter_map(|&i| cost[i].map(|c| c.1))
            .fold(f64::INFINITY, f64::min);
        let together = total / (service + trip).max(1.0);
        for &i in members {
            rate[i] = rate[i].max(together);
        }
    }
    let mut order: Vec<usize> = (0..candidates.len())
        .filter(|&i| rate[i] > 0.0 || wanted.contains(&candidates[i].site_id))
        .collect();
    order.sort_by(|&a, &b| {
        rate[b]
            .total_cmp(&rate[a])
            .then(candidates[a].site_id.cmp(&candidates[b].site_id))
    });
    // First the afternoon's share of the candidates among sites open in the afternoon, then the
    // rest by rate.
    let afternoon_quota = (settings.candidates as f64 * afternoon_share).ceil() as usize;
    let mut chosen: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| afternoon[i])
        .take(afternoon_quota)
        .collect();
    let mut taken: HashSet<usize> = chosen.iter().copied().collect();
    for &i in &order {
        if chosen.len() >= settings.candidates {
            break;
        }
        if taken.insert(i) {
            chosen.push(i);
        }
    }
    // Shares: each shared indicator's own best per minute, in proportion to its share.
    for (indicator, pct) in &settings.shares {
        let quota = (settings.candidates as f64 * pct / 100.0).ceil() as usize;
        let mut own: Vec<(f64, usize)> = candidates
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let v = c.value.get(indicator).copied().unwrap_or(0.0);
                let (service, trip) = cost[i]?;
                (v > 0.0 && open[i]).then(|| (v / (service + trip).max(1.0), i))
            })
            .collect();
        own.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(candidates[a.1].site_id.cmp(&candidates[b.1].site_id))
        });
        for (_, i) in own.into_iter().take(quota) {
            if taken.insert(i) {
                chosen.push(i);
            }
        }
    }
    for (i, c) in candidates.iter().enumerate() {
        if wanted.contains(&c.site_id) && taken.insert(i) {
            chosen.push(i);
        }
    }
    let mut closed: Vec<usize> = (0..candidates.len()).filter(|&i| !open[i]).collect();
    closed.sort_by(|&a, &b| {
        value(&candidates[b])
            .total_cmp(&value(&candidates[a]))
            .then(candidates[a].site_id.cmp(&candidates[b].site_id))
    });
    for i in closed.into_iter().take(CLOSED_EXPLAINED) {
        if taken.insert(i) {
            chosen.push(i);
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_break_is_taken_out_of_the_clock_and_put_back() {
        let c = WorkClock {
            break_start: 12 * 3600,
            break_len: 3600,
        };
        assert_eq!(c.to_work(11 * 3600), 11 * 3600);
        assert_eq!(c.to_work(12 * 3600 + 1800), 12 * 3600);
        assert_eq!(c.to_work(15 * 3600 + 1800), 14 * 3600 + 1800);
        // A visit 11:00–12:30 on the work clock runs 11:00–13:30 with the break inside.
        assert_eq!(c.start_to_wall(11 * 3600), 11 * 3600);
        assert_eq!(c.end_to_wall(12 * 3600 + 1800), 13 * 3600 + 1800);
        // Ending at the break's start ends before it; starting there starts after it.
        assert_eq!(c.end_to_wall(12 * 3600), 12 * 3600);
        assert_eq!(c.start_to_wall(12 * 3600), 13 * 3600);
        assert!(c.breaks(7 * 3600 + 1800, 15 * 3600 + 1800));
        assert!(!c.breaks(7 * 3600 + 1800, 11 * 3600));
    }

    #[test]
    fn shares_parse_and_are_checked() {
        let s = parse_shares("kia=40, ktp_el=20").unwrap();
        assert_eq!(s["kia"], 40.0);
        assert!(parse_shares("kia=70,ikd=40").unwrap_err().contains("100"));
        assert!(parse_shares("kia").is_err());
        assert!(parse_shares("paspor=10").is_err());
    }
}
