//! One published plan per region-week, said by the database: a partial unique index over
//! (region_code, week) where status = 'published'. Two publications racing on PostgreSQL (two
//! coordinators, or two `serve` instances) can then not both stand; the store maps the violation to
//! "stale" and the later one supersedes the earlier. Any week that already has several published
//! versions keeps its newest one published and the others become `superseded` first.
//!
//! Partial indexes and this UPDATE are the same SQL on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE plans SET status = 'superseded' WHERE status = 'published' AND EXISTS (
                SELECT 1 FROM plans newer WHERE newer.region_code = plans.region_code
                AND newer.week = plans.week AND newer.status = 'published'
                AND newer.version > plans.version)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_plans_one_published ON plans (region_code, week) \
             WHERE status = 'published'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX uq_plans_one_published")
            .await?;
        Ok(())
    }
}
