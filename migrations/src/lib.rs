//! jemput's schema, as sea-orm migrations. Each migration must have the same effect on SQLite and
//! PostgreSQL: portable column types, and backend-specific SQL only where the two have no common
//! form (the data-version triggers), with the same effect on both.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_visit_outcomes;
mod m20261122_000003_plans;
mod m20261124_000004_outbox;
mod m20261130_000005_accounts_logs;
mod m20261203_000006_estimates_calendar;
mod m20261203_000007_audit_region;
mod m20261203_000008_one_published_plan;
mod m20261203_000009_data_version;
mod m20261203_000010_week_labels;
mod m20261203_000011_one_current_log;
mod m20261203_000012_json_columns;
mod m20261203_000013_target_basis;
mod m20261204_000014_programmes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_visit_outcomes::Migration),
            Box::new(m20261122_000003_plans::Migration),
            Box::new(m20261124_000004_outbox::Migration),
            Box::new(m20261130_000005_accounts_logs::Migration),
            Box::new(m20261203_000006_estimates_calendar::Migration),
            Box::new(m20261203_000007_audit_region::Migration),
            Box::new(m20261203_000008_one_published_plan::Migration),
            Box::new(m20261203_000009_data_version::Migration),
            Box::new(m20261203_000010_week_labels::Migration),
            Box::new(m20261203_000011_one_current_log::Migration),
            Box::new(m20261203_000012_json_columns::Migration),
            Box::new(m20261203_000013_target_basis::Migration),
            Box::new(m20261204_000014_programmes::Migration),
        ]
    }
}
