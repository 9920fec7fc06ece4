//! HTTP API (warp). Handlers turn every outcome, business errors included, into a reply in one
//! JSON envelope; rejections are only warp's own (unknown path, wrong method) and are mapped
//! into the same envelope by `recover`.

mod auth;
mod catalog;
mod emails;
mod error;
mod form;
mod health;
mod notices;
pub mod openapi;
mod pages;
mod params;
mod plans;
mod priorities;
mod reports;
mod review;
mod routes;
mod schemas;
pub mod server;
mod visits;

pub use auth::AuthState;
pub use error::ApiError;
pub use pages::csrf_for_session;
pub use routes::{documented_route_table, route_table, routes};

use std::net::SocketAddr;

use crate::store::Db;

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// `/health`'s own database connection (not the shared pool).
    pub probe: std::sync::Arc<crate::store::Probe>,
    /// Rankings (cached per region, week and data version) and the heavy-work gate.
    pub ranker: std::sync::Arc<crate::services::ranking::Ranker>,
    pub planner: std::sync::Arc<crate::planner::week::WeekSettings>,
    pub mail: crate::services::publishing::MailContext,
    /// Wakes this process's outbox worker after a publication.
    pub wake: std::sync::Arc<tokio::sync::Notify>,
    pub max_body_bytes: u64,
    pub auth: std::sync::Arc<AuthState>,
    /// Calendar decisions (next week, today, link expiry, log lateness): `crate::clock`.
    pub clock: crate::clock::SharedClock,
    /// The console's map tiles and cookie settings.
    pub web: std::sync::Arc<crate::config::WebSettings>,
}

/// A bound server: tests read the port, `serve` runs it until a shutdown signal.
pub struct Server {
    listener: tokio::net::TcpListener,
    state: AppState,
}

impl Server {
    pub async fn bind(addr: SocketAddr, state: AppState) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(Self { listener, state })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        server::serve(self.listener, routes(self.state), shutdown).await;
    }
}
