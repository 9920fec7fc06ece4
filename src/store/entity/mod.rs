//! sea-orm entities, one per table of `migrations/`.

pub mod audit_log;
pub mod blangko_stock;
pub mod coverage_snapshots;
pub mod email_outbox;
pub mod idempotency_keys;
pub mod indicators;
pub mod json;
pub mod plan_pins;
pub mod plan_stops;
pub mod plans;
pub mod regions;
pub mod school_calendar;
pub mod sessions;
pub mod site_answers;
pub mod sites;
pub mod targets;
pub mod team_members;
pub mod teams;
pub mod users;
pub mod visit_logs;
pub mod visit_outcomes;
pub mod weekly_runs;
