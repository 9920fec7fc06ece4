//! Plain copies of stored rows, for the services: nothing outside the store depends on the
//! tables' sea-orm entities. Each conversion destructures its entity completely, so a new column
//! is a compile error here until it is carried over (or deliberately left out).

use chrono::{DateTime, Utc};

use super::entity::plans;

/// One version of a region-week's plan, as the services read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub id: i64,
    pub region_code: String,
    pub week: String,
    /// `draft`, `published`, or `superseded` (an older published version of the region-week).
    pub status: String,
    pub version: i32,
    pub seed: i64,
    pub prize: f64,
    pub travel_s: i64,
    pub upper_bound: f64,
    pub visits: i32,
    pub stats: String,
    pub unscheduled: String,
    pub base_plan_id: Option<i64>,
    pub moved: Option<i32>,
    pub added: Option<i32>,
    pub dropped: Option<i32>,
    /// Completed visits kept as they were.
    pub kept: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The coordinator approved this version for the weekly trigger to publish and send.
    pub approved_at: Option<DateTime<Utc>>,
}

impl From<plans::Model> for Plan {
    fn from(m: plans::Model) -> Self {
        let plans::Model {
            id,
            region_code,
            week,
            status,
            version,
            seed,
            prize,
            travel_s,
            upper_bound,
            visits,
            stats,
            unscheduled,
            base_plan_id,
            moved,
            added,
            dropped,
            kept,
            created_at,
            published_at,
            approved_at,
        } = m;
        Plan {
            id,
            region_code,
            week,
            status,
            version,
            seed,
            prize,
            travel_s,
            upper_bound,
            visits,
            stats,
            unscheduled,
            base_plan_id,
            moved,
            added,
            dropped,
            kept,
            created_at,
            published_at,
            approved_at,
        }
    }
}
