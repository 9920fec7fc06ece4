//! Weekly plans, their stops, and the coordinator's pins for a region-week.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    RegionCode,
    Week,
    Status,
    Version,
    Seed,
    Prize,
    TravelS,
    UpperBound,
    Visits,
    /// JSON: solver statistics (iterations, ticks, runtime, first plan time).
    Stats,
    /// JSON: the top unscheduled sites with the reason in words.
    Unscheduled,
    /// The plan this one re-planned, and how many of its visits moved, were added or dropped.
    BasePlanId,
    Moved,
    Added,
    Dropped,
    Kept,
    CreatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum PlanStops {
    Table,
    Id,
    PlanId,
    TeamId,
    Day,
    Seq,
    SiteId,
    Part,
    Parts,
    Arrive,
    Start,
    End,
    TravelFromPrevS,
    People,
    Priority,
    Pinned,
}

#[derive(DeriveIden)]
enum PlanPins {
    Table,
    Id,
    RegionCode,
    Week,
    SiteId,
    Part,
    TeamId,
    Day,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .col(big_pk_auto(Plans::Id))
                    .col(string_len(Plans::RegionCode, 16))
                    .col(string_len(Plans::Week, 10))
                    .col(string_len(Plans::Status, 16))
                    .col(integer(Plans::Version))
                    .col(big_integer(Plans::Seed))
                    .col(double(Plans::Prize))
                    .col(big_integer(Plans::TravelS))
                    .col(double(Plans::UpperBound))
                    .col(integer(Plans::Visits))
                    .col(text(Plans::Stats))
                    .col(text(Plans::Unscheduled))
                    .col(big_integer_null(Plans::BasePlanId))
                    .col(integer_null(Plans::Moved))
                    .col(integer_null(Plans::Added))
                    .col(integer_null(Plans::Dropped))
                    .col(integer_null(Plans::Kept))
                    .col(timestamp_with_time_zone(Plans::CreatedAt))
                    .col(timestamp_with_time_zone_null(Plans::PublishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plans_region")
                            .from(Plans::Table, Plans::RegionCode)
                            .to(Regions::Table, Regions::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanStops::Table)
                    .col(big_pk_auto(PlanStops::Id))
                    .col(big_integer(PlanStops::PlanId))
                    .col(big_integer(PlanStops::TeamId))
                    .col(date(PlanStops::Day))
                    .col(integer(PlanStops::Seq))
                    .col(big_integer(PlanStops::SiteId))
                    .col(integer(PlanStops::Part))
                    .col(integer(PlanStops::Parts))
                    .col(string_len(PlanStops::Arrive, 8))
                    .col(string_len(PlanStops::Start, 8))
                    .col(string_len(PlanStops::End, 8))
                    .col(integer(PlanStops::TravelFromPrevS))
                    .col(text(PlanStops::People))
                    .col(double(PlanStops::Priority))
                    .col(boolean(PlanStops::Pinned))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plan_stops_plan")
                            .from(PlanStops::Table, PlanStops::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plan_stops_site")
                            .from(PlanStops::Table, PlanStops::SiteId)
                            .to(Sites::Table, Sites::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plan_stops_team")
                            .from(PlanStops::Table, PlanStops::TeamId)
                            .to(Teams::Table, Teams::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_plan_stops_plan")
                    .table(PlanStops::Table)
                    .col(PlanStops::PlanId)
                    .col(PlanStops::TeamId)
                    .col(PlanStops::Day)
                    .col(PlanStops::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanPins::Table)
                    .col(big_pk_auto(PlanPins::Id))
                    .col(string_len(PlanPins::RegionCode, 16))
                    .col(string_len(PlanPins::Week, 10))
                    .col(big_integer(PlanPins::SiteId))
                    .col(integer(PlanPins::Part))
                    .col(big_integer(PlanPins::TeamId))
                    .col(date(PlanPins::Day))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plan_pins_site")
                            .from(PlanPins::Table, PlanPins::SiteId)
                            .to(Sites::Table, Sites::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plan_pins_team")
                            .from(PlanPins::Table, PlanPins::TeamId)
                            .to(Teams::Table, Teams::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_plan_pins_visit")
                    .table(PlanPins::Table)
                    .col(PlanPins::RegionCode)
                    .col(PlanPins::Week)
                    .col(PlanPins::SiteId)
                    .col(PlanPins::Part)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_plans_region_week")
                    .table(Plans::Table)
                    .col(Plans::RegionCode)
                    .col(Plans::Week)
                    .col(Plans::Version)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PlanPins::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PlanStops::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Plans::Table).to_owned())
            .await
    }
}
