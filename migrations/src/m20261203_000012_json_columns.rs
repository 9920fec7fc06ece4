//! JSON kept as JSON. These columns always held JSON text (written by the store from typed
//! values); PostgreSQL now stores them as `jsonb`, so the database itself refuses anything that is
//! not JSON and the store reads them back as typed values instead of parsing text. SQLite has no
//! JSON type (JSON is text there): nothing changes in its file.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column) of every JSON column.
pub const JSON_COLUMNS: [(&str, &str); 10] = [
    ("plans", "stats"),
    ("plans", "unscheduled"),
    ("plan_stops", "people"),
    ("sites", "eligible"),
    ("sites", "counts"),
    ("visit_logs", "counts"),
    ("visit_logs", "turned_away"),
    ("visit_logs", "flags"),
    ("visit_outcomes", "delivered"),
    ("audit_log", "detail"),
];

async fn retype(manager: &SchemaManager<'_>, to: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    for (table, column) in JSON_COLUMNS {
        // A column default (`sites.counts`: '{}') is not cast along with the column: it is
        // dropped, and put back cast to the new type.
        let default: Option<String> = db
            .query_one_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT column_default FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
                [table.into(), column.into()],
            ))
            .await?
            .map(|row| row.try_get::<Option<String>>("", "column_default"))
            .transpose()?
            .flatten();
        // PostgreSQL runs the migration in one transaction: a row that is not JSON stops the
        // upgrade with its table and column in the error, and nothing is half-converted.
        let mut sql = format!(r#"ALTER TABLE "{table}" "#);
        if default.is_some() {
            sql += &format!(r#"ALTER COLUMN "{column}" DROP DEFAULT, "#);
        }
        sql += &format!(r#"ALTER COLUMN "{column}" TYPE {to} USING "{column}"::{to}"#);
        if let Some(d) = &default {
            sql += &format!(r#", ALTER COLUMN "{column}" SET DEFAULT ({d})::{to}"#);
        }
        db.execute_unprepared(&sql)
            .await
            .map_err(|e| DbErr::Migration(format!("{table}.{column} to {to}: {e}")))?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        retype(manager, "jsonb").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        retype(manager, "text").await
    }
}
