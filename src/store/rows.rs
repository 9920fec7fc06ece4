//! Plain copies of stored rows, for the services: nothing outside the store depends on the
//! tables' sea-orm entities. Each conversion destructures its entity completely, so a new column
//! is a compile error here until it is carried over (or deliberately left out).

use chrono::{DateTime, Utc};

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::entity::{plan_pins, plan_stops, plans, sites, team_members, teams, visit_logs};
use crate::fieldlog::{Fix, LogInput, Status};

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
    /// What the planner reported (search statistics, bounds, shares).
    pub stats: serde_json::Value,
    /// The sites left out, with their reasons.
    pub unscheduled: serde_json::Value,
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

/// One revision of a visit's log, its JSON columns read once.
#[derive(Debug, Clone, PartialEq)]
pub struct Log {
    pub id: i64,
    /// The planned visit (plan stop) it was logged through.
    pub stop_id: i64,
    pub revision: i32,
    pub is_current: bool,
    pub plan_id: i64,
    pub site_id: i64,
    pub team_id: i64,
    pub region_code: String,
    pub week: String,
    pub visit_date: NaiveDate,
    pub status: String,
    /// People served per indicator.
    pub counts: BTreeMap<String, u32>,
    /// People turned away per indicator.
    pub turned_away: BTreeMap<String, u32>,
    pub check_in_at: Option<DateTime<Utc>>,
    pub check_in_lat: Option<f64>,
    pub check_in_lon: Option<f64>,
    pub check_out_at: Option<DateTime<Utc>>,
    pub check_out_lat: Option<f64>,
    pub check_out_lon: Option<f64>,
    pub notes: String,
    /// Anomaly flags (`late`, `far_from_site`, …).
    pub flags: Vec<String>,
    pub logged_at: DateTime<Utc>,
    pub logged_by: String,
    /// `pending`, `approved` or `rejected`.
    pub review: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_comment: Option<String>,
}

impl From<visit_logs::Model> for Log {
    fn from(m: visit_logs::Model) -> Self {
        Log {
            counts: m.counts.into(),
            turned_away: m.turned_away.into(),
            flags: m.flags.into(),
            id: m.id,
            stop_id: m.stop_id,
            revision: m.revision,
            is_current: m.is_current,
            plan_id: m.plan_id,
            site_id: m.site_id,
            team_id: m.team_id,
            region_code: m.region_code,
            week: m.week,
            visit_date: m.visit_date,
            status: m.status,
            check_in_at: m.check_in_at,
            check_in_lat: m.check_in_lat,
            check_in_lon: m.check_in_lon,
            check_out_at: m.check_out_at,
            check_out_lat: m.check_out_lat,
            check_out_lon: m.check_out_lon,
            notes: m.notes,
            logged_at: m.logged_at,
            logged_by: m.logged_by,
            review: m.review,
            reviewed_by: m.reviewed_by,
            reviewed_at: m.reviewed_at,
            review_comment: m.review_comment,
        }
    }
}

impl Log {
    /// The stored revision back as the input it was made from.
    pub fn input(&self) -> LogInput {
        let fix = |at: Option<DateTime<Utc>>, lat, lon| {
            at.map(|at| Fix {
                at: at.fixed_offset(),
                lat,
                lon,
            })
        };
        LogInput {
            status: Status::parse(&self.status).unwrap_or(Status::Selesai),
            counts: self.counts.clone(),
            turned_away: self.turned_away.clone(),
            check_in: fix(self.check_in_at, self.check_in_lat, self.check_in_lon),
            check_out: fix(self.check_out_at, self.check_out_lat, self.check_out_lon),
            notes: self.notes.clone(),
        }
    }
}

/// A plain row with the fields of an entity's model, and the conversion from it. The conversion
/// destructures the model without `..`, so a new column is a compile error until it is listed.
macro_rules! row {
    ($(#[$meta:meta])* $name:ident from $($model:ident)::+ {
        $($(#[$field_meta:meta])* $field:ident: $ty:ty),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $($(#[$field_meta])* pub $field: $ty),*
        }

        impl From<$($model)::+> for $name {
            #[allow(clippy::useless_conversion)]
            fn from(model: $($model)::+) -> Self {
                let $($model)::+ { $($field),* } = model;
                // `into`: a JSON column's typed wrapper becomes its plain value.
                $name { $($field: $field.into()),* }
            }
        }
    };
}

row! {
    /// One visit of a stored plan: a stop of a team-day.
    Stop from plan_stops::Model {
        id: i64,
        plan_id: i64,
        team_id: i64,
        day: NaiveDate,
        seq: i32,
        site_id: i64,
        part: i32,
        parts: i32,
        arrive: String,
        start: String,
        end: String,
        travel_from_prev_s: i32,
        /// Expected people per indicator for this visit.
        people: BTreeMap<String, f64>,
        priority: f64,
        /// Pinned by the coordinator or frozen (a completed day) when the plan was made.
        pinned: bool,
        /// Cards printed on site per kind (`ktp_el`, `kia`).
        cards: BTreeMap<String, u32>,
        /// `antar` (a PAUD's drop-off), `ambil` (its pick-up) or empty.
        task: String,
    }
}

row! {
    /// A coordinator's pin: this part of a site on this team-day, for a region-week.
    Pin from plan_pins::Model {
        id: i64,
        region_code: String,
        week: String,
        site_id: i64,
        part: i32,
        team_id: i64,
        day: NaiveDate,
    }
}

row! {
    /// A mobile team.
    Team from teams::Model {
        id: i64,
        name: String,
        kabupaten_code: String,
        base_name: String,
        base_lat: f64,
        base_lon: f64,
        kits: i32,
        /// `;`-separated, sorted capability codes.
        capabilities: String,
        /// Canonical weekly hours.
        working_hours: String,
        /// Laptop-and-printer sets (KIA, akta); `None`: the configured default.
        printers: Option<i32>,
        /// Phones for IKD activation; `None`: one per member.
        phones: Option<i32>,
    }
}

row! {
    /// An outreach site.
    Site from sites::Model {
        id: i64,
        kind: String,
        external_id: String,
        name: String,
        address: String,
        region_code: String,
        lat: f64,
        lon: f64,
        coord_quality: String,
        /// People eligible per indicator.
        eligible: BTreeMap<String, i64>,
        opening_hours: String,
        ownership: Option<String>,
        contact_name: Option<String>,
        contact_email: Option<String>,
        contact_phone: Option<String>,
        active: bool,
        synthetic: bool,
        /// The site's own count of people not yet served per indicator.
        counts: BTreeMap<String, i64>,
        counts_as_of: Option<NaiveDate>,
        /// An event's one date (the site exists that day only).
        event_date: Option<NaiveDate>,
    }
}

row! {
    /// A member of a team, who gets its emails.
    Member from team_members::Model {
        id: i64,
        team_id: i64,
        name: String,
        email: String,
        /// `id` or `en`.
        language: String,
    }
}
