//! What a defensible week needs: sites say whether they are synthetic and may carry their own
//! count of people not yet served (a school's list); teams may state their printers and phones;
//! the school calendar (exam weeks, holidays) closes school visits.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sites {
    Table,
    /// Made up by a synthetic data layer (the demo), not a real place.
    Synthetic,
    /// JSON object indicator -> the site's own count of people not yet served.
    Counts,
    /// The day of those counts.
    CountsAsOf,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    /// Laptop-and-printer sets for KIA and akta (null: the configured default).
    Printers,
    /// Phones for IKD activation (null: one per member).
    Phones,
}

#[derive(DeriveIden)]
enum SchoolCalendar {
    Table,
    Id,
    /// The region it applies to (a province, kabupaten/kota or finer); sites inside it.
    RegionCode,
    Name,
    StartsOn,
    EndsOn,
    /// `;`-separated site kinds it closes, sorted; empty = every school and PAUD kind.
    Kinds,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sites::Table)
                    .add_column(boolean(Sites::Synthetic).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sites::Table)
                    .add_column(text(Sites::Counts).default("{}"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sites::Table)
                    .add_column(date_null(Sites::CountsAsOf))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Teams::Table)
                    .add_column(integer_null(Teams::Printers))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Teams::Table)
                    .add_column(integer_null(Teams::Phones))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SchoolCalendar::Table)
                    .col(big_pk_auto(SchoolCalendar::Id))
                    .col(string_len(SchoolCalendar::RegionCode, 16))
                    .col(string(SchoolCalendar::Name))
                    .col(date(SchoolCalendar::StartsOn))
                    .col(date(SchoolCalendar::EndsOn))
                    .col(string(SchoolCalendar::Kinds))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_school_calendar_region")
                            .from(SchoolCalendar::Table, SchoolCalendar::RegionCode)
                            .to(Regions::Table, Regions::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_school_calendar")
                    .table(SchoolCalendar::Table)
                    .col(SchoolCalendar::RegionCode)
                    .col(SchoolCalendar::Name)
                    .col(SchoolCalendar::StartsOn)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SchoolCalendar::Table).to_owned())
            .await?;
        for col in [Teams::Printers, Teams::Phones] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Teams::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        for col in [Sites::Synthetic, Sites::Counts, Sites::CountsAsOf] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sites::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
