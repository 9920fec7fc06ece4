//! The offices' programmes beyond school visits (issue 17): answers from the places visited to
//! their notices, the site a notice went to, dated events (crowd points with a date), and the
//! blangko stock of each kabupaten/kota.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SiteAnswers {
    Table,
    Id,
    /// The kabupaten/kota and week of the plan the notice came from.
    RegionCode,
    Week,
    SiteId,
    PlanId,
    /// `bisa` (the visit is welcome as planned) or `tidak_bisa`.
    Answer,
    /// The site's proposal for another day (with `tidak_bisa`).
    ProposedDate,
    /// `;`-separated days the site was planned for when it answered (they are excluded).
    PlannedDays,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    /// The site a notice is about (null for a team's or a coordinator's message).
    SiteId,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    /// An event (a crowd point on one date): the site exists only on this day.
    EventDate,
    /// Widened for `komunitas_terpencil` (19 characters).
    Kind,
}

/// The kind column's width; SQLite does not enforce widths (and cannot alter a column), so only
/// PostgreSQL changes.
async fn widen_kind(manager: &SchemaManager<'_>, width: u32) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    manager
        .alter_table(
            Table::alter()
                .table(Sites::Table)
                .modify_column(ColumnDef::new(Sites::Kind).string_len(width).not_null())
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden)]
enum PlanStops {
    Table,
    /// Cards the visit prints on site per kind (`ktp_el`, `kia`), within the team-day's printer
    /// capacity and the week's blangko stock.
    Cards,
    /// `antar` (a PAUD's drop-off), `ambil` (its pick-up) or empty.
    Task,
}

#[derive(DeriveIden)]
enum BlangkoStock {
    Table,
    Id,
    /// The kabupaten/kota whose office holds the stock.
    RegionCode,
    AsOf,
    /// Blank KTP-el cards.
    KtpEl,
    /// Blank KIA cards.
    Kia,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        widen_kind(manager, 32).await?;
        manager
            .create_table(
                Table::create()
                    .table(SiteAnswers::Table)
                    .col(big_pk_auto(SiteAnswers::Id))
                    .col(string_len(SiteAnswers::RegionCode, 16))
                    .col(string_len(SiteAnswers::Week, 10))
                    .col(big_integer(SiteAnswers::SiteId))
                    .col(big_integer(SiteAnswers::PlanId))
                    .col(string_len(SiteAnswers::Answer, 16))
                    .col(date_null(SiteAnswers::ProposedDate))
                    .col(string(SiteAnswers::PlannedDays).default(""))
                    .col(text(SiteAnswers::Note).default(""))
                    .col(timestamp_with_time_zone(SiteAnswers::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_site_answers_week")
                    .table(SiteAnswers::Table)
                    .col(SiteAnswers::RegionCode)
                    .col(SiteAnswers::Week)
                    .col(SiteAnswers::SiteId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailOutbox::Table)
                    .add_column(big_integer_null(EmailOutbox::SiteId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sites::Table)
                    .add_column(date_null(Sites::EventDate))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PlanStops::Table)
                    .add_column(json_binary(PlanStops::Cards).default("{}"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PlanStops::Table)
                    .add_column(string_len(PlanStops::Task, 8).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BlangkoStock::Table)
                    .col(big_pk_auto(BlangkoStock::Id))
                    .col(string_len(BlangkoStock::RegionCode, 16))
                    .col(date(BlangkoStock::AsOf))
                    .col(integer(BlangkoStock::KtpEl))
                    .col(integer(BlangkoStock::Kia))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_blangko_stock")
                    .table(BlangkoStock::Table)
                    .col(BlangkoStock::RegionCode)
                    .col(BlangkoStock::AsOf)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BlangkoStock::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PlanStops::Table)
                    .drop_column(PlanStops::Cards)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PlanStops::Table)
                    .drop_column(PlanStops::Task)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sites::Table)
                    .drop_column(Sites::EventDate)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailOutbox::Table)
                    .drop_column(EmailOutbox::SiteId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(SiteAnswers::Table).to_owned())
            .await
        // The kind column stays wide: narrowing it back would fail on the longer kinds.
    }
}
