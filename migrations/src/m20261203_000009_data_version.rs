//! A version of the ranking's inputs, kept by the database itself: one row in `data_version`,
//! incremented by triggers on every insert, update or delete of regions, sites, coverage
//! snapshots, targets and visit outcomes. A ranking computed at version v stays valid until the
//! version moves, so every `serve` instance can cache it under (region, week, v) and reuse it —
//! no writer, present or future, can forget to invalidate, and the bump commits atomically with
//! the data (a reader that sees v+1 also sees the rows that made it).
//!
//! The triggers differ per backend (PostgreSQL: one per statement through a function; SQLite:
//! one per row, which is the only kind it has); their effect is the same.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 5] = [
    "regions",
    "sites",
    "coverage_snapshots",
    "targets",
    "visit_outcomes",
];
const EVENTS: [&str; 3] = ["INSERT", "UPDATE", "DELETE"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE TABLE data_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)",
        )
        .await?;
        db.execute_unprepared("INSERT INTO data_version (id, version) VALUES (1, 1)")
            .await?;
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION jemput_bump_data_version() RETURNS trigger AS $$
                     BEGIN
                       UPDATE data_version SET version = version + 1 WHERE id = 1;
                       RETURN NULL;
                     END $$ LANGUAGE plpgsql",
                )
                .await?;
                for t in TABLES {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER dv_{t} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t} \
                         FOR EACH STATEMENT EXECUTE FUNCTION jemput_bump_data_version()"
                    ))
                    .await?;
                }
            }
            _ => {
                for t in TABLES {
                    for e in EVENTS {
                        let name = format!("dv_{t}_{}", e.to_lowercase());
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER {name} AFTER {e} ON {t} BEGIN \
                             UPDATE data_version SET version = version + 1 WHERE id = 1; END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                for t in TABLES {
                    db.execute_unprepared(&format!("DROP TRIGGER dv_{t} ON {t}"))
                        .await?;
                }
                db.execute_unprepared("DROP FUNCTION jemput_bump_data_version()")
                    .await?;
            }
            _ => {
                for t in TABLES {
                    for e in EVENTS {
                        db.execute_unprepared(&format!("DROP TRIGGER dv_{t}_{}", e.to_lowercase()))
                            .await?;
                    }
                }
            }
        }
        db.execute_unprepared("DROP TABLE data_version").await?;
        Ok(())
    }
}
