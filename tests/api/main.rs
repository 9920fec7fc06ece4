//! Integration tests: one binary (one link step), every database test on SQLite and PostgreSQL.

mod helpers;

mod api;
mod demo;
mod imports;
mod outbox;
mod plans;
mod priorities;
mod process;
mod support;
