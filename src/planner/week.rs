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

mod build;
mod candidates;
mod settings;
pub use build::build_week;
pub use candidates::select_candidates;
pub use settings::*;

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
    /// `antar` (a PAUD pair's drop-off) or `ambil` (its pick-up); empty for any other visit.
    pub task: String,
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

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Priorities are estimates: two decimals are plenty, and a tiny difference must not outweigh
/// minutes of travel.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
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
