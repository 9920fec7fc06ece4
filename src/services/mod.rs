//! The use cases. Each service loads what it needs through `store`, decides with the pure core
//! (`planner`, `priority`, `email`, `fieldlog`, `auth`) and writes back through `store`; the HTTP
//! API, the CLI and the weekly trigger call these and nothing below them.

pub mod accounts;
pub mod catalog;
pub mod emails;
pub mod fieldlogs;
pub mod importing;
pub mod planning;
pub mod publishing;
pub mod ranking;
pub mod reports;
