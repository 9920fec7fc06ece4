//! Integration tests: one binary (one link step), every database test on SQLite and PostgreSQL.

mod helpers;

mod access;
mod api;
mod browser;
mod demo;
mod fieldlogs;
mod imports;
mod openapi;
mod outbox;
mod plans;
mod priorities;
mod process;
mod support;
mod week;
