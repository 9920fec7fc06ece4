//! Regions, indicators, coverage snapshots, targets, sites, teams and team members.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
    Level,
    ParentCode,
    Name,
    Lat,
    Lon,
    Boundary,
    TimeZone,
}

#[derive(DeriveIden)]
enum Indicators {
    Table,
    Code,
    NameId,
    NameEn,
    Denominator,
}

#[derive(DeriveIden)]
enum CoverageSnapshots {
    Table,
    Id,
    RegionCode,
    Indicator,
    Eligible,
    Holders,
    AsOf,
    Source,
}

#[derive(DeriveIden)]
enum Targets {
    Table,
    Id,
    Indicator,
    Year,
    Scope,
    Percent,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    Id,
    Kind,
    ExternalId,
    Name,
    Address,
    RegionCode,
    Lat,
    Lon,
    CoordQuality,
    Eligible,
    OpeningHours,
    Ownership,
    ContactName,
    ContactEmail,
    ContactPhone,
    Active,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    Name,
    KabupatenCode,
    BaseName,
    BaseLat,
    BaseLon,
    Kits,
    Capabilities,
    WorkingHours,
}

#[derive(DeriveIden)]
enum TeamMembers {
    Table,
    Id,
    TeamId,
    Name,
    Email,
    Language,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Regions::Table)
                    .col(string_len(Regions::Code, 16).primary_key())
                    .col(string_len(Regions::Level, 16))
                    .col(string_len_null(Regions::ParentCode, 16))
                    .col(string(Regions::Name))
                    .col(double(Regions::Lat))
                    .col(double(Regions::Lon))
                    // GeoJSON MultiPolygon, [lng, lat] order, as text: portable and readable by QGIS.
                    .col(text_null(Regions::Boundary))
                    .col(string_len(Regions::TimeZone, 32))
                    .foreign_key(&mut fk(
                        "fk_regions_parent",
                        (Regions::Table, Regions::ParentCode),
                        (Regions::Table, Regions::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_regions_parent")
                    .table(Regions::Table)
                    .col(Regions::ParentCode)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Indicators::Table)
                    .col(string_len(Indicators::Code, 32).primary_key())
                    .col(string(Indicators::NameId))
                    .col(string(Indicators::NameEn))
                    .col(text(Indicators::Denominator))
                    .to_owned(),
            )
            .await?;
        let seed = [
            (
                "ktp_el",
                "Perekaman KTP-el",
                "KTP-el recording",
                "wajib KTP: WNI berusia 17 tahun ke atas atau pernah kawin",
            ),
            (
                "kia",
                "Kartu Identitas Anak",
                "Child identity card (KIA)",
                "anak di bawah 17 tahun dan belum kawin",
            ),
            (
                "akta_lahir",
                "Akta kelahiran",
                "Birth certificate",
                "anak usia 0-18 tahun",
            ),
            (
                "ikd",
                "Identitas Kependudukan Digital",
                "Digital identity (IKD)",
                "wajib KTP (definisi 2024-2025)",
            ),
        ];
        let mut insert = Query::insert();
        insert.into_table(Indicators::Table).columns([
            Indicators::Code,
            Indicators::NameId,
            Indicators::NameEn,
            Indicators::Denominator,
        ]);
        for (code, id, en, den) in seed {
            insert.values_panic([code.into(), id.into(), en.into(), den.into()]);
        }
        manager.exec_stmt(insert).await?;

        manager
            .create_table(
                Table::create()
                    .table(CoverageSnapshots::Table)
                    .col(big_pk_auto(CoverageSnapshots::Id))
                    .col(string_len(CoverageSnapshots::RegionCode, 16))
                    .col(string_len(CoverageSnapshots::Indicator, 32))
                    .col(big_integer(CoverageSnapshots::Eligible))
                    .col(big_integer(CoverageSnapshots::Holders))
                    .col(date(CoverageSnapshots::AsOf))
                    .col(string(CoverageSnapshots::Source))
                    .foreign_key(&mut fk(
                        "fk_coverage_region",
                        (CoverageSnapshots::Table, CoverageSnapshots::RegionCode),
                        (Regions::Table, Regions::Code),
                    ))
                    .foreign_key(&mut fk(
                        "fk_coverage_indicator",
                        (CoverageSnapshots::Table, CoverageSnapshots::Indicator),
                        (Indicators::Table, Indicators::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        // History is kept: one row per (region, indicator, as-of, source); the latest as-of wins.
        manager
            .create_index(
                Index::create()
                    .name("uq_coverage_snapshot")
                    .table(CoverageSnapshots::Table)
                    .col(CoverageSnapshots::RegionCode)
                    .col(CoverageSnapshots::Indicator)
                    .col(CoverageSnapshots::AsOf)
                    .col(CoverageSnapshots::Source)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Targets::Table)
                    .col(pk_auto(Targets::Id))
                    .col(string_len(Targets::Indicator, 32))
                    .col(integer(Targets::Year))
                    // "nasional" for the national default, otherwise a region code override.
                    .col(string_len(Targets::Scope, 16))
                    .col(double(Targets::Percent))
                    .foreign_key(&mut fk(
                        "fk_targets_indicator",
                        (Targets::Table, Targets::Indicator),
                        (Indicators::Table, Indicators::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_targets")
                    .table(Targets::Table)
                    .col(Targets::Indicator)
                    .col(Targets::Year)
                    .col(Targets::Scope)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sites::Table)
                    .col(big_pk_auto(Sites::Id))
                    .col(string_len(Sites::Kind, 16))
                    // NPSN where it exists, otherwise a stable id chosen by the importer.
                    .col(string_len_uniq(Sites::ExternalId, 64))
                    .col(string(Sites::Name))
                    .col(text(Sites::Address))
                    .col(string_len(Sites::RegionCode, 16))
                    .col(double(Sites::Lat))
                    .col(double(Sites::Lon))
                    .col(string_len(Sites::CoordQuality, 16))
                    // JSON object indicator -> estimated eligible people, e.g. {"kia":120}.
                    .col(text(Sites::Eligible))
                    .col(text(Sites::OpeningHours))
                    .col(string_len_null(Sites::Ownership, 16))
                    .col(string_null(Sites::ContactName))
                    .col(string_null(Sites::ContactEmail))
                    .col(string_null(Sites::ContactPhone))
                    .col(boolean(Sites::Active))
                    .foreign_key(&mut fk(
                        "fk_sites_region",
                        (Sites::Table, Sites::RegionCode),
                        (Regions::Table, Regions::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sites_region_kind")
                    .table(Sites::Table)
                    .col(Sites::RegionCode)
                    .col(Sites::Kind)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Teams::Table)
                    .col(big_pk_auto(Teams::Id))
                    .col(string_uniq(Teams::Name))
                    .col(string_len(Teams::KabupatenCode, 16))
                    .col(string(Teams::BaseName))
                    .col(double(Teams::BaseLat))
                    .col(double(Teams::BaseLon))
                    .col(integer(Teams::Kits))
                    .col(string(Teams::Capabilities))
                    .col(string(Teams::WorkingHours))
                    .foreign_key(&mut fk(
                        "fk_teams_kabupaten",
                        (Teams::Table, Teams::KabupatenCode),
                        (Regions::Table, Regions::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TeamMembers::Table)
                    .col(big_pk_auto(TeamMembers::Id))
                    .col(big_integer(TeamMembers::TeamId))
                    .col(string(TeamMembers::Name))
                    .col(string(TeamMembers::Email))
                    .col(string_len(TeamMembers::Language, 2))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_members_team")
                            .from(TeamMembers::Table, TeamMembers::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_team_members")
                    .table(TeamMembers::Table)
                    .col(TeamMembers::TeamId)
                    .col(TeamMembers::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TeamMembers::Table.into_iden(),
            Teams::Table.into_iden(),
            Sites::Table.into_iden(),
            Targets::Table.into_iden(),
            CoverageSnapshots::Table.into_iden(),
            Indicators::Table.into_iden(),
            Regions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
