//! jemput: turns Disdukcapil coverage gaps and location data into jemput-bola outreach plans.
//!
//! The layers (ARCHITECTURE.md has the rules, `tests/architecture.rs` checks them):
//! - the pure core — [`domain`], [`planner`], [`priority`], [`email`], [`fieldlog`], [`auth`],
//!   [`import`], [`clock`]: no database, HTTP, mail transport or configuration;
//! - [`store`]: the only module that speaks sea-orm; repositories returning plain values;
//! - [`mail`]: the SMTP / `.eml` transport and the outbox worker;
//! - [`services`]: the use cases (importing, ranking, planning, publishing, …) over store and core;
//! - [`http`] (warp) and [`cli`] (clap): thin shells over the services;
//! - [`app`] wires configuration, database, services and server together; [`config`],
//!   [`telemetry`] and [`heavy`] are infrastructure every outer layer may use.

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod email;
pub mod fieldlog;
pub mod heavy;
pub mod http;
pub mod import;
pub mod mail;
pub mod planner;
pub mod priority;
pub mod services;
pub mod store;
pub mod telemetry;
