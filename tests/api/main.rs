//! Integration tests: one binary (one link step), every database test on SQLite and PostgreSQL.

mod helpers;

mod access;
mod api;
mod browser;
mod console;
mod demo;
mod fieldlog_races;
mod fieldlogs;
mod imports;
mod leases;
mod log_privacy;
mod notices;
mod openapi;
mod outbox;
mod plans;
mod priorities;
mod process;
mod programmes;
mod publishing;
mod replan;
mod support;
mod users;
mod week;
