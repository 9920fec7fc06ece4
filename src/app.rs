//! Wiring: settings → database → server.

use std::net::SocketAddr;

use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::http::{AppState, Server};
use crate::store::{self, StoreError};

/// Connect and refuse to run on a database that has pending migrations: migrating is an
/// explicit step (`jemput migrate`, or `demo`), never a side effect of starting a server.
pub async fn connect_migrated(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db = store::connect(&settings.database).await?;
    let pending = store::pending_migrations(&db).await?;
    if pending > 0 {
        anyhow::bail!("database has {pending} pending migration(s): run `jemput migrate` first");
    }
    Ok(db)
}

pub async fn connect_and_migrate(settings: &Settings) -> Result<DatabaseConnection, StoreError> {
    let db = store::connect(&settings.database).await?;
    store::migrate(&db).await?;
    Ok(db)
}

pub async fn bind(settings: &Settings, db: DatabaseConnection) -> std::io::Result<Server> {
    let addr = SocketAddr::new(settings.server.host, settings.server.port);
    Server::bind(addr, state(settings, db)).await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

pub fn state(settings: &Settings, db: DatabaseConnection) -> AppState {
    AppState {
        db,
        priority: std::sync::Arc::new(settings.priority.clone()),
        planner: std::sync::Arc::new(settings.planner.clone()),
        max_body_bytes: settings.server.max_body_bytes,
    }
}
