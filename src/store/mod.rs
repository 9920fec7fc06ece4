//! Storage: the only module that speaks sea-orm. Functions here take a connection (or a
//! transaction) and return plain rows or domain values; HTTP and CLI never build queries.

pub mod accounts;
pub mod calendar;
pub mod entity;
pub mod idempotency;
pub mod import;
pub mod notices;
pub mod outbox;
pub mod plans;
pub mod queries;
pub mod ranking_inputs;
pub mod rows;
pub mod stock;
pub mod visits;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous as SqlxSync};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::{Backend, DatabaseSettings, SqliteSynchronous, redact_url};

pub use sea_orm::DatabaseConnection as Db;

/// `visit_outcomes.source` of an approved log.
pub const FIELD_SOURCE: &str = "field_log";
/// … of an approved `sebagian` log: its deliveries count, the site stays a revisit candidate.
pub const PARTIAL_SOURCE: &str = "field_log_partial";
/// `coverage_snapshots.source` of the snapshots derived from approved logs.
pub const DERIVED_SOURCE: &str = "field_logs_derived";

/// Rows whose region `column` is `code` or inside it (`35.09` takes `35.09` and `35.09.…`).
pub(crate) fn within(
    column: impl sea_orm::ColumnTrait,
    code: &crate::domain::RegionCode,
) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(column.eq(code.as_str()))
        .add(column.like(format!("{}.%", code.as_str())))
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot create the database directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
}

impl StoreError {
    /// The database's own error code (SQLSTATE on PostgreSQL, the extended result code on SQLite).
    fn db_code(&self) -> Option<String> {
        let StoreError::Db(e) = self else {
            return None;
        };
        let runtime = match e {
            DbErr::Exec(r) | DbErr::Query(r) | DbErr::Conn(r) => r,
            _ => return None,
        };
        match runtime {
            sea_orm::RuntimeErr::SqlxError(sqlx) => sqlx
                .as_database_error()
                .and_then(|d| d.code())
                .map(|c| c.into_owned()),
            _ => None,
        }
    }

    /// A locked SQLite database, a PostgreSQL serialization failure, deadlock or lock timeout, or
    /// an exhausted pool: the caller should retry later (503), it is not a bug (500). Recognised
    /// by error code, not by message text.
    pub fn is_busy(&self) -> bool {
        if matches!(self, StoreError::Db(DbErr::ConnectionAcquire(_))) {
            return true;
        }
        matches!(
            self.db_code().as_deref(),
            // SQLite: SQLITE_BUSY (5) and its extended codes, SQLITE_LOCKED (6).
            Some("5" | "6" | "261" | "517" | "773" | "262")
            // PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
            | Some("40001" | "40P01" | "55P03")
        )
    }

    /// A unique constraint said no (two requests raced to insert the same key): a conflict (409).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            StoreError::Db(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
        )
    }
}

/// Open the pool. SQLite gets WAL, foreign keys, a busy timeout and the configured `synchronous`;
/// the file (and its directory) is created on first use.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, StoreError> {
    let backend = settings.backend()?;
    if backend == Backend::Sqlite
        && let Some(dir) = sqlite_path(&settings.url)
            .and_then(|p| std::path::Path::new(&p).parent().map(|d| d.to_path_buf()))
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Directory {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let mut opts = ConnectOptions::new(settings.url.clone());
    opts.max_connections(settings.max_connections)
        .min_connections(0)
        .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms))
        .connect_timeout(Duration::from_millis(settings.acquire_timeout_ms))
        .sqlx_logging(false);
    let busy = Duration::from_millis(settings.sqlite_busy_timeout_ms);
    let sync = match settings.sqlite_synchronous {
        SqliteSynchronous::Normal => SqlxSync::Normal,
        SqliteSynchronous::Full => SqlxSync::Full,
    };
    opts.map_sqlx_sqlite_opts(move |o| {
        o.create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(busy)
            .synchronous(sync)
    });
    tracing::debug!(url = %redact_url(&settings.url), "connecting to the database");
    Ok(Database::connect(opts).await?)
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

/// Apply every pending migration. Migrations are a release step (`jemput migrate`), which
/// `demo` and the tests also call; `serve` refuses to start on an unmigrated database.
///
/// On SQLite they run on one connection, in one transaction: a schema change made on one pooled
/// connection is not seen by another that has its schema cached, so a migration that drops and
/// re-creates an index could fail with "already exists" when its statements landed on two
/// connections (seen on 7 of 24 parallel runs); and a failed run leaves nothing half-migrated.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), StoreError> {
    if db.get_database_backend() == DbBackend::Sqlite {
        let txn = db.begin().await?;
        Migrator::up(&txn, None).await?;
        txn.commit().await?;
    } else {
        Migrator::up(db, None).await?;
    }
    Ok(())
}

pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, StoreError> {
    Ok(Migrator::get_pending_migrations(db).await?.len())
}

/// Start a write transaction. On SQLite it takes the write lock at BEGIN (IMMEDIATE) so two
/// writers queue on busy_timeout instead of failing on lock upgrade.
pub async fn begin_write(
    db: &DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, StoreError> {
    let options = TransactionOptions {
        sqlite_transaction_mode: (db.get_database_backend() == DbBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    Ok(db.begin_with_options(options).await?)
}

pub async fn ping(db: &DatabaseConnection) -> Result<(), StoreError> {
    db.execute_unprepared("SELECT 1").await?;
    Ok(())
}

/// A database connection of its own for `/health`: under load the shared pool is exhausted by
/// requests, and a health check waiting behind them would report a healthy process as dead (it
/// took 4.7 s at 150 connections). Opened on first use; one connection, a short deadline.
pub struct Probe {
    settings: crate::config::DatabaseSettings,
    conn: tokio::sync::OnceCell<DatabaseConnection>,
}

impl Probe {
    pub fn new(settings: &crate::config::DatabaseSettings) -> Self {
        Self {
            settings: crate::config::DatabaseSettings {
                max_connections: 1,
                acquire_timeout_ms: PROBE_DEADLINE.as_millis() as u64,
                ..settings.clone()
            },
            conn: tokio::sync::OnceCell::new(),
        }
    }

    /// `Ok` when the database answers `SELECT 1` within the deadline.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let answer = async {
            let db = self
                .conn
                .get_or_try_init(|| connect(&self.settings))
                .await?;
            ping(db).await
        };
        match tokio::time::timeout(PROBE_DEADLINE, answer).await {
            Ok(r) => r,
            Err(_) => Err(DbErr::Custom("the database did not answer in time".into()).into()),
        }
    }
}

const PROBE_DEADLINE: Duration = Duration::from_secs(2);

/// The version of the ranking's inputs (regions, sites, coverage, targets, visit outcomes), moved
/// by the database's own triggers on every change to them (migration 000009). Read it *before*
/// the inputs: a ranking is then never cached under a version newer than its data.
pub async fn data_version(db: &DatabaseConnection) -> Result<i64, StoreError> {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM data_version WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("data_version has no row".into()))?;
    Ok(row.try_get::<i64>("", "version")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_extracted_from_urls() {
        assert_eq!(
            sqlite_path("sqlite://var/jemput.db").as_deref(),
            Some("var/jemput.db")
        );
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db?mode=rwc").as_deref(),
            Some("/tmp/x.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }
}
