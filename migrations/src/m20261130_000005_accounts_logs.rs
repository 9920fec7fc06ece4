//! Accounts and sessions, the audit trail, field visit logs (revisions, review) and the
//! idempotency keys that make a retried POST from a weak connection harmless.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    /// PHC string, argon2id.
    PasswordHash,
    /// `admin`, `coordinator`, `field` or `manager`.
    Role,
    /// Coordinator: a kabupaten/kota code; manager: a kabupaten/kota or a province code.
    RegionCode,
    /// Field member: their team.
    TeamId,
    Language,
    Active,
    CreatedAt,
    PasswordChangedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    /// SHA-256 of the bearer token, hex; the token itself is never stored.
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    /// `user:{id}:{username}`, `link:team:{id}`, `cli` or `system`.
    Actor,
    Action,
    ObjectType,
    ObjectId,
    /// JSON.
    Detail,
}

#[derive(DeriveIden)]
enum VisitLogs {
    Table,
    Id,
    /// The planned visit (a stop of a published plan).
    StopId,
    Revision,
    /// Only the newest revision of a visit is current; older ones are kept as they were.
    IsCurrent,
    PlanId,
    SiteId,
    TeamId,
    RegionCode,
    Week,
    VisitDate,
    Status,
    /// JSON: service -> documents delivered.
    Counts,
    /// JSON: reason -> people turned away.
    TurnedAway,
    CheckInAt,
    CheckInLat,
    CheckInLon,
    CheckOutAt,
    CheckOutLat,
    CheckOutLon,
    Notes,
    /// JSON list of anomaly flags computed when the revision was written.
    Flags,
    LoggedAt,
    LoggedBy,
    /// `pending`, `approved` or `rejected`.
    Review,
    ReviewedBy,
    ReviewedAt,
    ReviewComment,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Id,
    /// Whose key: `user:{id}` or `link:{stop_id}`; the same key from two users is two requests.
    Scope,
    Key,
    RequestHash,
    /// `in_progress` or `done`.
    State,
    ResponseStatus,
    ResponseBody,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum PlanStops {
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
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_len_uniq(Users::Username, 64))
                    .col(string(Users::DisplayName))
                    .col(string(Users::PasswordHash))
                    .col(string_len(Users::Role, 16))
                    .col(string_len_null(Users::RegionCode, 16))
                    .col(big_integer_null(Users::TeamId))
                    .col(string_len(Users::Language, 2))
                    .col(boolean(Users::Active))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::PasswordChangedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_team")
                            .from(Users::Table, Users::TeamId)
                            .to(Teams::Table, Teams::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(big_pk_auto(Sessions::Id))
                    .col(string_len_uniq(Sessions::TokenHash, 64))
                    .col(big_integer(Sessions::UserId))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(string(AuditLog::Actor))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::ObjectType, 32))
                    .col(string_len(AuditLog::ObjectId, 64))
                    .col(text(AuditLog::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(VisitLogs::Table)
                    .col(big_pk_auto(VisitLogs::Id))
                    .col(big_integer(VisitLogs::StopId))
                    .col(integer(VisitLogs::Revision))
                    .col(boolean(VisitLogs::IsCurrent))
                    .col(big_integer(VisitLogs::PlanId))
                    .col(big_integer(VisitLogs::SiteId))
                    .col(big_integer(VisitLogs::TeamId))
                    .col(string_len(VisitLogs::RegionCode, 16))
                    .col(string_len(VisitLogs::Week, 10))
                    .col(date(VisitLogs::VisitDate))
                    .col(string_len(VisitLogs::Status, 16))
                    .col(text(VisitLogs::Counts))
                    .col(text(VisitLogs::TurnedAway))
                    .col(timestamp_with_time_zone_null(VisitLogs::CheckInAt))
                    .col(double_null(VisitLogs::CheckInLat))
                    .col(double_null(VisitLogs::CheckInLon))
                    .col(timestamp_with_time_zone_null(VisitLogs::CheckOutAt))
                    .col(double_null(VisitLogs::CheckOutLat))
                    .col(double_null(VisitLogs::CheckOutLon))
                    .col(text(VisitLogs::Notes))
                    .col(text(VisitLogs::Flags))
                    .col(timestamp_with_time_zone(VisitLogs::LoggedAt))
                    .col(string(VisitLogs::LoggedBy))
                    .col(string_len(VisitLogs::Review, 16))
                    .col(string_null(VisitLogs::ReviewedBy))
                    .col(timestamp_with_time_zone_null(VisitLogs::ReviewedAt))
                    .col(text_null(VisitLogs::ReviewComment))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_visit_logs_stop")
                            .from(VisitLogs::Table, VisitLogs::StopId)
                            .to(PlanStops::Table, PlanStops::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Two writers racing on the same visit cannot both create revision n.
        manager
            .create_index(
                Index::create()
                    .name("uq_visit_logs_revision")
                    .table(VisitLogs::Table)
                    .col(VisitLogs::StopId)
                    .col(VisitLogs::Revision)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_visit_logs_review")
                    .table(VisitLogs::Table)
                    .col(VisitLogs::RegionCode)
                    .col(VisitLogs::Week)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(big_pk_auto(IdempotencyKeys::Id))
                    .col(string_len(IdempotencyKeys::Scope, 64))
                    .col(string_len(IdempotencyKeys::Key, 64))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(string_len(IdempotencyKeys::State, 16))
                    .col(integer_null(IdempotencyKeys::ResponseStatus))
                    .col(text_null(IdempotencyKeys::ResponseBody))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .col(timestamp_with_time_zone(IdempotencyKeys::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_idempotency_keys")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::Scope)
                    .col(IdempotencyKeys::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            VisitLogs::Table.into_iden(),
            AuditLog::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
