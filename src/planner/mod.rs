//! The weekly planner: a Team Orienteering Problem with Time Windows (pure: no database, no HTTP).
//!
//! Each team-day is one route from the team's base back to it within the day's hours. A site has
//! a prize (its priority), a service time (per team: their own kits) and per-day windows that must
//! contain the whole service; waiting is allowed. A visit that needs several days is a group of
//! parts served all or none, by one team, on its consecutive working days in order. The objective is lexicographic: the most prize served, then the least
//! travel. The exchange format (`shared/bench/instance-format.md`) is the input of `jemput solve`.
//!
//! Arithmetic is exact: seconds as `u32`, prizes as integer thousandths.

pub mod cards;
mod check;
mod instance;
mod problem;
mod search;
mod sets;
pub mod shares;
pub mod week;

pub use check::{Evaluation, evaluate, upper_bound};
pub use problem::{
    GroupRef, Haversine, Instance, InstanceSite, InstanceTeam, Plan, PlanRoute, PlanStop, Problem,
    ProblemError, TeamDay, TeamDayRef, TravelTimes, Window, format_hms, parse_hms,
};
pub use search::{Options, Outcome, Why, solve, why_unserved};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_week;
