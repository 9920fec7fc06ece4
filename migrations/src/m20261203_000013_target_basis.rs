//! What a target is a share of: the indicator's own eligible people (`eligible`, every target so
//! far) or the KTP-el holders of the same region (`ktp_el`: Jawa Timur's IKD target is 25 % of
//! KTP-el holders, the national one 30 % of wajib KTP).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Targets {
    Table,
    /// `eligible` or `ktp_el`.
    Basis,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Targets::Table)
                    .add_column(string_len(Targets::Basis, 16).default("eligible"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Targets::Table)
                    .drop_column(Targets::Basis)
                    .to_owned(),
            )
            .await
    }
}
