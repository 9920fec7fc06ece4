//! What completed visits delivered, per site and day. Priorities read it (recency, fairness, and
//! people already served since the last coverage snapshot); imports and, later, approved field
//! logs write it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum VisitOutcomes {
    Table,
    Id,
    SiteId,
    VisitedOn,
    Delivered,
    Source,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VisitOutcomes::Table)
                    .col(big_pk_auto(VisitOutcomes::Id))
                    .col(big_integer(VisitOutcomes::SiteId))
                    .col(date(VisitOutcomes::VisitedOn))
                    // JSON object indicator -> people served, e.g. {"ktp_el":84,"ikd":30}.
                    .col(text(VisitOutcomes::Delivered))
                    .col(string(VisitOutcomes::Source))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_visit_outcomes_site")
                            .from(VisitOutcomes::Table, VisitOutcomes::SiteId)
                            .to(Sites::Table, Sites::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_visit_outcomes")
                    .table(VisitOutcomes::Table)
                    .col(VisitOutcomes::SiteId)
                    .col(VisitOutcomes::VisitedOn)
                    .col(VisitOutcomes::Source)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(VisitOutcomes::Table).to_owned())
            .await
    }
}
