//! The email outbox (written in the publishing transaction, drained by the worker with a lease),
//! plan approval for the weekly trigger, and the record that each region-week was triggered once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    Id,
    /// UNIQUE: `plan:{plan_id}:member:{member_id}`, `reminder:{region}:{week}:{address}`.
    /// Re-publishing the same plan version inserts nothing.
    DedupeKey,
    /// Fixed when the row is written; every retry sends the same Message-ID.
    MessageId,
    /// `schedule`, `change` or `reminder`.
    Kind,
    PlanId,
    TeamId,
    RegionCode,
    Recipient,
    Language,
    Subject,
    BodyText,
    BodyHtml,
    /// The iCalendar attachment, if any.
    Ics,
    /// `pending`, `sending`, `sent`, `failed` (permanent 5xx) or `dead` (out of attempts).
    Status,
    Attempts,
    MaxAttempts,
    NextAttemptAt,
    LockedBy,
    LockedUntil,
    LastError,
    SmtpResponse,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum WeeklyRuns {
    Table,
    Id,
    RegionCode,
    Week,
    /// `published`, `already_published` or `reminded`.
    Action,
    PlanId,
    RanAt,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    ApprovedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EmailOutbox::Table)
                    .col(big_pk_auto(EmailOutbox::Id))
                    .col(string_len_uniq(EmailOutbox::DedupeKey, 200))
                    .col(string_len_uniq(EmailOutbox::MessageId, 200))
                    .col(string_len(EmailOutbox::Kind, 16))
                    .col(big_integer_null(EmailOutbox::PlanId))
                    .col(big_integer_null(EmailOutbox::TeamId))
                    .col(string_len(EmailOutbox::RegionCode, 16))
                    .col(string(EmailOutbox::Recipient))
                    .col(string_len(EmailOutbox::Language, 2))
                    .col(string(EmailOutbox::Subject))
                    .col(text(EmailOutbox::BodyText))
                    .col(text(EmailOutbox::BodyHtml))
                    .col(text_null(EmailOutbox::Ics))
                    .col(string_len(EmailOutbox::Status, 16))
                    .col(integer(EmailOutbox::Attempts))
                    .col(integer(EmailOutbox::MaxAttempts))
                    .col(timestamp_with_time_zone(EmailOutbox::NextAttemptAt))
                    .col(string_len_null(EmailOutbox::LockedBy, 64))
                    .col(timestamp_with_time_zone_null(EmailOutbox::LockedUntil))
                    .col(text_null(EmailOutbox::LastError))
                    .col(text_null(EmailOutbox::SmtpResponse))
                    .col(timestamp_with_time_zone(EmailOutbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(EmailOutbox::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbox_plan")
                            .from(EmailOutbox::Table, EmailOutbox::PlanId)
                            .to(Plans::Table, Plans::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The claim scans by status and due time.
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_due")
                    .table(EmailOutbox::Table)
                    .col(EmailOutbox::Status)
                    .col(EmailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_plan")
                    .table(EmailOutbox::Table)
                    .col(EmailOutbox::PlanId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WeeklyRuns::Table)
                    .col(big_pk_auto(WeeklyRuns::Id))
                    .col(string_len(WeeklyRuns::RegionCode, 16))
                    .col(string_len(WeeklyRuns::Week, 10))
                    .col(string_len(WeeklyRuns::Action, 32))
                    .col(big_integer_null(WeeklyRuns::PlanId))
                    .col(timestamp_with_time_zone(WeeklyRuns::RanAt))
                    .to_owned(),
            )
            .await?;
        // Once per region-week, even with several workers racing at 14:00.
        manager
            .create_index(
                Index::create()
                    .name("uq_weekly_runs")
                    .table(WeeklyRuns::Table)
                    .col(WeeklyRuns::RegionCode)
                    .col(WeeklyRuns::Week)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .add_column(timestamp_with_time_zone_null(Plans::ApprovedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .drop_column(Plans::ApprovedAt)
                    .to_owned(),
            )
            .await?;
        for table in [
            WeeklyRuns::Table.into_iden(),
            EmailOutbox::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
