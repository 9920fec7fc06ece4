//! From the database's facts to a planning instance for one ISO week (pure): team-days from
//! working hours, holidays and the short Friday; candidate visits from ranked sites with service
//! times from head counts and kits; opening windows from site hours or the kind's default.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::problem::{Instance, InstanceSite, InstanceTeam, Point, TeamDay, Window};
use crate::domain::{Capability, Coordinate, SiteKind, WeeklyHours};

/// `[planner]` settings; defaults and reasons in `config/default.toml`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeekSettings {
    /// How many of the best-ranked sites are candidates.
    pub candidates: usize,
    /// Minutes to set up the kits at a site.
    pub setup_min: f64,
    /// Minutes per person and kit, per indicator.
    pub minutes_per_person: BTreeMap<String, f64>,
    /// The longest visit; a site needing more becomes several visits (at most `max_parts`).
    pub max_visit_min: f64,
    pub max_parts: usize,
    pub speed_kmh: f64,
    pub road_factor: f64,
    /// National holidays and cuti bersama: no team works.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// Friday ends by this time for Friday prayer (`HH:MM`).
    pub friday_end: String,
    /// Opening hours per kind of site when a site has none of its own.
    pub default_hours: BTreeMap<String, String>,
    pub time_limit_s: f64,
    pub seed: u64,
    /// Travel per region code (the most specific prefix wins), e.g. slower in the hills.
    #[serde(default)]
    pub regions: BTreeMap<String, RegionTravel>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegionTravel {
    pub speed_kmh: Option<f64>,
    pub road_factor: Option<f64>,
}

impl WeekSettings {
    /// These settings with the travel of `region`'s most specific entry in `regions`.
    pub fn for_region(&self, region: &crate::domain::RegionCode) -> WeekSettings {
        let mut out = self.clone();
        // Coarsest first, so that a kabupaten's entry overrides its province's.
        for code in region.lineage().into_iter().rev() {
            if let Some(t) = self.regions.get(code.as_str()) {
                out.speed_kmh = t.speed_kmh.unwrap_or(out.speed_kmh);
                out.road_factor = t.road_factor.unwrap_or(out.road_factor);
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
        positive("max_visit_min", self.max_visit_min)?;
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
        }
        for (k, v) in &self.minutes_per_person {
            positive(&format!("minutes_per_person.{k}"), *v)?;
        }
        super::problem::parse_hms(&self.friday_end)
            .map_err(|e| format!("planner.friday_end: {e}"))?;
        for (kind, hours) in &self.default_hours {
            SiteKind::parse(kind).map_err(|e| format!("planner.default_hours.{kind}: {e}"))?;
            WeeklyHours::parse(hours).map_err(|e| format!("planner.default_hours.{kind}: {e}"))?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct TeamInput {
    pub id: i64,
    pub name: String,
    pub base: Coordinate,
    pub kits: u32,
    pub capabilities: Vec<Capability>,
    pub hours: WeeklyHours,
}

#[derive(Debug, Clone)]
pub struct CandidateInput {
    pub site_id: i64,
    pub kind: SiteKind,
    pub coordinate: Coordinate,
    /// `None`: the kind's default hours.
    pub hours: Option<WeeklyHours>,
    /// Expected people per indicator (from the ranking).
    pub expected: BTreeMap<String, f64>,
    pub priority: f64,
    /// The indicator that contributes most: a team must be able to serve it.
    pub main_indicator: String,
}

/// One visit of the instance: a site, or one part of a site too big for a day.
#[derive(Debug, Clone, Serialize)]
pub struct VisitSpec {
    /// Id in the instance: `"{site_id}"` or `"{site_id}#{part}"`.
    pub key: String,
    pub site_id: i64,
    pub part: usize,
    pub parts: usize,
    pub people: BTreeMap<String, f64>,
    pub service_min: f64,
    pub priority: f64,
}

/// Why a candidate is absent from the instance altogether.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Excluded {
    /// No team has the capability the site's main service needs.
    NoCapableTeam { capability: String },
    /// The site is open on no day and hour a team works this week.
    NoWindow,
}

pub struct Week {
    pub instance: Instance,
    pub visits: Vec<VisitSpec>,
    pub excluded: Vec<(i64, Excluded)>,
}

fn minutes_to_hm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn capability_for(indicator: &str) -> Option<Capability> {
    Capability::parse(indicator).ok()
}

/// Build the week's instance. Deterministic: teams and candidates keep the order given.
pub fn build_week(
    week_start: NaiveDate,
    teams: &[TeamInput],
    candidates: &[CandidateInput],
    settings: &WeekSettings,
) -> Week {
    let friday_end =
        super::problem::parse_hms(&settings.friday_end).unwrap_or(11 * 3600 + 1800) / 60;
    let days: Vec<NaiveDate> = (0..7)
        .map(|d| week_start + chrono::Duration::days(d))
        .collect();
    let mut team_days: Vec<InstanceTeam> = Vec::new();
    for t in teams {
        let mut out = Vec::new();
        for day in &days {
            if settings.holidays.contains(day) {
                continue;
            }
            let wd = day.weekday().num_days_from_monday() as usize;
            let intervals = t.hours.intervals(wd);
            let (Some(first), Some(last)) = (intervals.first(), intervals.last()) else {
                continue;
            };
            let mut end = last.1;
            if wd == 4 {
                end = end.min(friday_end as u16);
            }
            if end <= first.0 {
                continue;
            }
            out.push(TeamDay {
                day: day.to_string(),
                start: minutes_to_hm(first.0),
                end: minutes_to_hm(end),
                frozen: false,
            });
        }
        team_days.push(InstanceTeam {
            id: t.id.to_string(),
            base: Point {
                lat: t.base.lat(),
                lon: t.base.lon(),
            },
            days: out,
        });
    }
    let worked: Vec<&str> = team_days
        .iter()
        .flat_map(|t| t.days.iter().map(|d| d.day.as_str()))
        .collect();

    let mut sites = Vec::new();
    let mut visits = Vec::new();
    let mut excluded = Vec::new();
    for c in candidates {
        let capability = capability_for(&c.main_indicator);
        let capable: Vec<&TeamInput> = teams
            .iter()
            .filter(|t| capability.is_none_or(|cap| t.capabilities.contains(&cap)))
            .collect();
        if capable.is_empty() {
            excluded.push((
                c.site_id,
                Excluded::NoCapableTeam {
                    capability: c.main_indicator.clone(),
                },
            ));
            continue;
        }
        let default_hours = settings
            .default_hours
            .get(c.kind.as_str())
            .and_then(|h| WeeklyHours::parse(h).ok());
        let hours = c.hours.clone().or(default_hours);
        let windows: Option<Vec<Window>> = hours.as_ref().map(|h| {
            days.iter()
                .filter(|d| worked.contains(&d.to_string().as_str()))
                .flat_map(|d| {
                    let wd = d.weekday().num_days_from_monday() as usize;
                    h.intervals(wd).iter().map(move |(o, cl)| Window {
                        day: d.to_string(),
                        open: minutes_to_hm(*o),
                        close: minutes_to_hm(*cl),
                    })
                })
                .collect()
        });
        if windows.as_ref().is_some_and(|w| w.is_empty()) {
            excluded.push((c.site_id, Excluded::NoWindow));
            continue;
        }
        // Service time with the fewest kits among capable teams, so any of them can do it.
        let kits = capable.iter().map(|t| t.kits.max(1)).min().unwrap_or(1) as f64;
        let work: f64 = c
            .expected
            .iter()
            .map(|(ind, people)| {
                people * settings.minutes_per_person.get(ind).copied().unwrap_or(5.0)
            })
            .sum::<f64>()
            / kits;
        let per_part_work = (settings.max_visit_min - settings.setup_min).max(1.0);
        let parts = ((work / per_part_work).ceil() as usize).clamp(1, settings.max_parts);
        // The share of the people the planned parts can take; the rest stays a candidate.
        let covered = (per_part_work * parts as f64 / work.max(1e-9)).min(1.0);
        let allowed: Option<Vec<String>> = (capable.len() < teams.len())
            .then(|| capable.iter().map(|t| t.id.to_string()).collect());
        for part in 1..=parts {
            let share = covered / parts as f64;
            let key = if parts == 1 {
                c.site_id.to_string()
            } else {
                format!("{}#{part}", c.site_id)
            };
            let service_min = (settings.setup_min + work * share)
                .min(settings.max_visit_min)
                .round();
            let priority = (c.priority * share * 100.0).round() / 100.0;
            visits.push(VisitSpec {
                key: key.clone(),
                site_id: c.site_id,
                part,
                parts,
                people: c
                    .expected
                    .iter()
                    .map(|(k, v)| (k.clone(), (v * share * 10.0).round() / 10.0))
                    .collect(),
                service_min,
                priority,
            });
            sites.push(InstanceSite {
                id: key,
                lat: c.coordinate.lat(),
                lon: c.coordinate.lon(),
                service_min,
                priority,
                windows: windows.clone(),
                teams: allowed.clone(),
                pin: None,
                previous: None,
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
    }
}
