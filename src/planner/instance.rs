//! The planner's exchange format (`shared/bench/instance-format.md`): an instance in, a plan out,
//! as JSON.

use serde::{Deserialize, Serialize};

pub const EARTH_RADIUS_KM: f64 = 6371.0;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Instance {
    #[serde(default)]
    pub name: String,
    pub speed_kmh: f64,
    pub road_factor: f64,
    pub teams: Vec<InstanceTeam>,
    pub sites: Vec<InstanceSite>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct InstanceTeam {
    pub id: String,
    pub base: Point,
    pub days: Vec<TeamDay>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TeamDay {
    pub day: String,
    pub start: String,
    pub end: String,
    /// jemput extension: a day already worked (re-planning); only its pinned visits stay on it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub frozen: bool,
}

/// A team-day named in the exchange format's terms.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct TeamDayRef {
    pub team: String,
    pub day: String,
    /// Position in that route (for `previous`: re-planning starts from the same order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct InstanceSite {
    pub id: String,
    pub lat: f64,
    pub lon: f64,
    pub service_min: f64,
    pub priority: f64,
    #[serde(default)]
    pub windows: Option<Vec<Window>>,
    /// jemput extension (peers ignore it): only these teams may serve the site (capabilities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<String>>,
    /// jemput extension: the visit must be served on this team-day (a coordinator's pin or a
    /// completed visit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<TeamDayRef>,
    /// jemput extension: the team-day of this visit in the plan being re-planned; moving it away
    /// counts as a change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<TeamDayRef>,
    /// jemput extension: service minutes for the teams named here (their own kits, printers and
    /// phones); other teams take `service_min`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_by_team: Option<std::collections::BTreeMap<String, f64>>,
    /// jemput extension: one part of a visit that needs several days. The parts of a group are
    /// served all or none, by one team, on that team's consecutive working days in part order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupRef>,
    /// jemput extension: alternatives of one visit (e.g. sessions of different lengths at a
    /// village office) share a choice id; at most one of them is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
}

/// A part of a multi-day visit: the group's id and this part's number (ascending = day order).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct GroupRef {
    pub id: String,
    pub part: u32,
    /// Working days of the team between consecutive parts (1: consecutive days, the default; a
    /// PAUD's drop-off and pick-up are `paud_pairs.collect_days` apart). The same for every part.
    #[serde(default = "one_day", skip_serializing_if = "is_one_day")]
    pub gap: u32,
}

fn one_day() -> u32 {
    1
}

fn is_one_day(gap: &u32) -> bool {
    *gap == 1
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Window {
    pub day: String,
    pub open: String,
    pub close: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    pub routes: Vec<PlanRoute>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlanRoute {
    pub team: String,
    pub day: String,
    pub stops: Vec<PlanStop>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlanStop {
    pub site: String,
    pub arrive: String,
    pub start: String,
    pub end: String,
}
