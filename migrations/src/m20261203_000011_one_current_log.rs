//! One revision history per visit, said by the database. A visit is a site, a team and a day —
//! whichever plan version's link it is logged through — and its revisions are numbered per visit;
//! but the unique index was on (stop, revision), so two submissions at once through the links of
//! two plan versions (two phones of one team after a re-publication) could both write revision
//! n+1 and both stay current. Now:
//! - `uq_visit_logs_visit_revision`: (site_id, team_id, visit_date, revision) unique;
//! - `uq_visit_logs_one_current`: one current log per (site_id, team_id, visit_date).
//!
//! Logs written by that race are repaired first: revisions renumbered in the order they were
//! written, and only the last one current. Partial indexes are the same SQL on both backends.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SAME_VISIT: &str = "o.site_id = visit_logs.site_id AND o.team_id = visit_logs.team_id \
                          AND o.visit_date = visit_logs.visit_date";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS uq_visit_logs_revision")
            .await?;
        // Renumber every log of the visits whose revision numbers repeat, in the order written.
        db.execute_unprepared(&format!(
            "UPDATE visit_logs SET revision = (
                SELECT COUNT(*) FROM visit_logs o WHERE {SAME_VISIT} AND o.id <= visit_logs.id)
             WHERE EXISTS (
                SELECT 1 FROM visit_logs o JOIN visit_logs p ON p.site_id = o.site_id
                AND p.team_id = o.team_id AND p.visit_date = o.visit_date
                AND p.revision = o.revision AND p.id > o.id
                WHERE {SAME_VISIT})"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "UPDATE visit_logs SET is_current = false WHERE is_current AND EXISTS (
                SELECT 1 FROM visit_logs o WHERE {SAME_VISIT} AND o.is_current
                AND o.id > visit_logs.id)"
        ))
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_visit_logs_visit_revision \
             ON visit_logs (site_id, team_id, visit_date, revision)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_visit_logs_one_current \
             ON visit_logs (site_id, team_id, visit_date) WHERE is_current",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX uq_visit_logs_one_current")
            .await?;
        db.execute_unprepared("DROP INDEX uq_visit_logs_visit_revision")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_visit_logs_revision ON visit_logs (stop_id, revision)",
        )
        .await?;
        Ok(())
    }
}
