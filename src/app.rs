//! Wiring: settings → database → server.

use std::net::SocketAddr;

use crate::store::Db;

use crate::config::Settings;
use crate::http::{AppState, Server};
use crate::store::{self, StoreError};

/// Connect and refuse to run on a database that has pending migrations: migrating is an
/// explicit step (`jemput migrate`, or `demo`), never a side effect of starting a server.
pub async fn connect_migrated(settings: &Settings) -> anyhow::Result<Db> {
    let db = store::connect(&settings.database).await?;
    let pending = store::pending_migrations(&db).await?;
    if pending > 0 {
        anyhow::bail!("database has {pending} pending migration(s): run `jemput migrate` first");
    }
    Ok(db)
}

/// Apply pending migrations (`jemput migrate`); returns how many there were.
pub async fn migrate(settings: &Settings) -> Result<usize, StoreError> {
    let db = store::connect(&settings.database).await?;
    let pending = store::pending_migrations(&db).await?;
    store::migrate(&db).await?;
    Ok(pending)
}

/// Send every queued email that is due now, then return (`publish --send`, `demo`).
pub async fn send_queued(
    settings: &Settings,
    db: &Db,
) -> anyhow::Result<crate::mail::outbox::Tally> {
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let worker = crate::mail::outbox::Worker::new(db.clone(), settings, wake)
        .map_err(|e| anyhow::anyhow!("email: {e}"))?;
    Ok(worker.drain().await?)
}

pub async fn connect_and_migrate(settings: &Settings) -> Result<Db, StoreError> {
    let db = store::connect(&settings.database).await?;
    store::migrate(&db).await?;
    Ok(db)
}

pub async fn bind(settings: &Settings, db: Db) -> std::io::Result<Server> {
    bind_with_wake(
        settings,
        db,
        std::sync::Arc::new(tokio::sync::Notify::new()),
    )
    .await
}

pub async fn bind_with_wake(
    settings: &Settings,
    db: Db,
    wake: std::sync::Arc<tokio::sync::Notify>,
) -> std::io::Result<Server> {
    let addr = SocketAddr::new(settings.server.host, settings.server.port);
    Server::bind(addr, state_with_wake(settings, db, wake)).await
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

/// The ranking service with its cache and the process's bounded heavy-work gate.
pub fn ranker(settings: &Settings) -> std::sync::Arc<crate::services::ranking::Ranker> {
    std::sync::Arc::new(crate::services::ranking::Ranker::new(
        std::sync::Arc::new(settings.priority.clone()),
        crate::heavy::HeavyWork::per_core(
            settings.server.heavy_queue,
            std::time::Duration::from_secs(settings.server.heavy_wait_s),
        ),
    ))
}

pub fn state(settings: &Settings, db: Db) -> AppState {
    state_with_wake(
        settings,
        db,
        std::sync::Arc::new(tokio::sync::Notify::new()),
    )
}

/// The state, sharing `wake` with an outbox worker in the same process so a publication is sent
/// at once rather than at the next poll.
pub fn state_with_wake(
    settings: &Settings,
    db: Db,
    wake: std::sync::Arc<tokio::sync::Notify>,
) -> AppState {
    AppState {
        db,
        probe: std::sync::Arc::new(crate::store::Probe::new(&settings.database)),
        ranker: ranker(settings),
        planner: std::sync::Arc::new(settings.planner.clone()),
        mail: crate::services::publishing::MailContext::from_settings(settings),
        wake,
        max_body_bytes: settings.server.max_body_bytes,
        auth: std::sync::Arc::new(crate::http::AuthState::from_settings(settings)),
        clock: settings.clock(),
        web: std::sync::Arc::new(settings.web.clone()),
    }
}

/// The background work of a process: the outbox worker and the weekly trigger, until `stop`
/// turns true. Both keep going through database errors (logged) and stop between batches.
pub fn spawn_background(
    settings: &Settings,
    db: Db,
    wake: std::sync::Arc<tokio::sync::Notify>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let worker = crate::mail::outbox::Worker::new(db.clone(), settings, wake)
        .map_err(|e| anyhow::anyhow!("email: {e}"))?;
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let outbox = tokio::spawn(worker.run(stopped(stop.clone())));
    let weekly_settings = settings.clone();
    let clock = settings.clock();
    let weekly_stop = stopped(stop);
    let weekly = tokio::spawn(async move {
        tokio::pin!(weekly_stop);
        let every = std::time::Duration::from_millis(weekly_settings.weekly.check_interval_ms);
        loop {
            if let Err(e) =
                crate::services::publishing::run_weekly(&db, &weekly_settings, clock.now()).await
            {
                tracing::error!(error = %e, "weekly trigger failed; will try again");
            }
            // Idempotency keys are kept for a day; the purge rides on the same loop.
            if let Err(e) =
                crate::store::visits::purge_idempotency_keys(&db, chrono::Utc::now()).await
            {
                tracing::warn!(error = %e, "purging expired idempotency keys failed");
            }
            tokio::select! {
                _ = &mut weekly_stop => break,
                _ = tokio::time::sleep(every) => {}
            }
        }
    });
    Ok(vec![outbox, weekly])
}
