//! jemput: turns Disdukcapil coverage gaps and location data into jemput-bola outreach plans.
//!
//! Layers: [`domain`], [`planner`] and [`email`] are pure (no database, no HTTP); [`import`]
//! parses files into validated records; [`mailer`] speaks SMTP; [`outbox`] and [`notify`] queue
//! and send the weekly emails; [`store`] is the only module that speaks sea-orm; [`http`] (warp) and [`cli`] (clap)
//! are thin shells around them; [`app`] wires configuration, database and server together.

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
pub mod importer;
pub mod mailer;
pub mod notify;
pub mod outbox;
pub mod planner;
pub mod planning;
pub mod priority;
pub mod ranking;
pub mod store;
pub mod telemetry;
