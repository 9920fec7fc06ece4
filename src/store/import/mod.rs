//! Apply parsed import records: reference checks and upserts in one write transaction.
//! Any problem rolls the whole file back; nothing is half-written.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
};

use crate::store::entity::{
    coverage_snapshots, indicators, regions, sites, targets, team_members, teams,
};
use crate::store::{StoreError, begin_write};

mod figures;
use crate::domain::{RegionCode, RegionLevel};
use crate::import::{
    BoundaryRecord, CoverageRecord, NATIONAL_SCOPE, Problem, Progress, RegionRecord, SiteRecord,
    Summary, TargetRecord, TeamRecord,
};
pub use figures::{coverage, targets};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{} masalah pada data", .0.len())]
    Problems(Vec<Problem>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for ApplyError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApplyError::Store(StoreError::Db(e))
    }
}

/// Rows per multi-row INSERT: well under SQLite's 32,766 bound variables and PostgreSQL's 65,535.
const CHUNK: usize = 500;

async fn insert_chunks<E, A>(
    txn: &DatabaseTransaction,
    rows: Vec<A>,
    progress: &dyn Progress,
) -> Result<(), sea_orm::DbErr>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        let n = chunk.len() as u64;
        E::insert_many(chunk).exec_without_returning(txn).await?;
        progress.inc(n);
    }
    Ok(())
}

pub(super) async fn region_codes(
    txn: &impl ConnectionTrait,
) -> Result<HashSet<String>, sea_orm::DbErr> {
    let codes: Vec<String> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Code)
        .into_tuple()
        .all(txn)
        .await?;
    Ok(codes.into_iter().collect())
}

/// Fails with one problem per row whose region code (column `region_code`) is not in `known`.
pub(super) fn unknown_regions<'a>(
    known: &HashSet<String>,
    rows: impl Iterator<Item = (u64, &'a crate::domain::RegionCode)>,
) -> Result<(), ApplyError> {
    fail_if_any(
        rows.filter(|(_, code)| !known.contains(code.as_str()))
            .map(|(line, code)| {
                Problem::at(
                    line,
                    "region_code",
                    format!("kode wilayah tidak dikenal {code}"),
                )
            })
            .collect(),
    )
}

pub(super) fn fail_if_any(problems: Vec<Problem>) -> Result<(), ApplyError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApplyError::Problems(problems))
    }
}

// ---------------------------------------------------------------------------------------------

pub async fn regions(
    db: &DatabaseConnection,
    records: Vec<RegionRecord>,
    within: Option<&RegionCode>,
    progress: &dyn Progress,
) -> Result<Summary, ApplyError> {
    let mut summary = Summary::default();
    let (records, skipped): (Vec<_>, Vec<_>) = records
        .into_iter()
        .partition(|r| within.is_none_or(|w| r.code.is_within(w) || w.is_within(&r.code)));
    summary.skipped = skipped.len();
    progress.start(records.len() as u64);

    let txn = begin_write(db).await?;
    let existing: HashMap<String, regions::Model> = regions::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| (m.code.clone(), m))
        .collect();
    let in_file: HashSet<&str> = records.iter().map(|r| r.code.as_str()).collect();
    let mut problems = Vec::new();
    for r in &records {
        if let Some(parent) = r.code.parent()
            && !in_file.contains(parent.as_str())
            && !existing.contains_key(parent.as_str())
        {
            problems.push(Problem::at(
                r.line,
                "kode",
                format!("wilayah induk {parent} belum ada (impor tingkat atasnya dulu)"),
            ));
        }
    }
    fail_if_any(problems)?;

    // Parents first, so foreign keys hold inside the transaction on both backends.
    let mut records = records;
    records.sort_by_key(|r| (r.code.as_str().len(), r.code.clone()));
    let mut inserts = Vec::new();
    for r in records {
        let level = r.level.as_str().to_string();
        let parent = r.code.parent().map(|p| p.to_string());
        match existing.get(r.code.as_str()) {
            Some(m)
                if m.level == level
                    && m.parent_code == parent
                    && m.name == r.name
                    && m.lat == r.centroid.lat()
                    && m.lon == r.centroid.lon() =>
            {
                summary.unchanged += 1;
                progress.inc(1);
            }
            Some(m) => {
                let mut am: regions::ActiveModel = m.clone().into();
                am.level = Set(level);
                am.parent_code = Set(parent);
                am.name = Set(r.name);
                am.lat = Set(r.centroid.lat());
                am.lon = Set(r.centroid.lon());
                am.update(&txn).await?;
                summary.updated += 1;
                progress.inc(1);
            }
            None => {
                inserts.push(regions::ActiveModel {
                    time_zone: Set(r.code.time_zone().to_string()),
                    code: Set(r.code.to_string()),
                    level: Set(level),
                    parent_code: Set(parent),
                    name: Set(r.name),
                    lat: Set(r.centroid.lat()),
                    lon: Set(r.centroid.lon()),
                    boundary: Set(None),
                });
            }
        }
    }
    summary.inserted = inserts.len();
    // Insert level by level (the vector is sorted by code length), keeping parents first.
    insert_chunks(&txn, inserts, progress).await?;
    txn.commit().await?;
    progress.finish();
    Ok(summary)
}

pub async fn boundaries(
    db: &DatabaseConnection,
    records: Vec<BoundaryRecord>,
    within: Option<&RegionCode>,
    progress: &dyn Progress,
) -> Result<Summary, ApplyError> {
    let mut summary = Summary::default();
    let (records, skipped): (Vec<_>, Vec<_>) = records
        .into_iter()
        .partition(|r| within.is_none_or(|w| r.code.is_within(w)));
    summary.skipped = skipped.len();
    progress.start(records.len() as u64);
    let txn = begin_write(db).await?;
    let existing: HashMap<String, Option<String>> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Code)
        .column(regions::Column::Boundary)
        .into_tuple::<(String, Option<String>)>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let problems: Vec<Problem> = records
        .iter()
        .filter(|r| !existing.contains_key(r.code.as_str()))
        .map(|r| {
            Problem::at(
                r.line,
                "properties.kode",
                format!("kode wilayah tidak dikenal {}", r.code),
            )
        })
        .collect();
    fail_if_any(problems)?;
    for r in records {
        match existing.get(r.code.as_str()) {
            Some(Some(b)) if *b == r.geometry => summary.unchanged += 1,
            _ => {
                regions::Entity::update_many()
                    .col_expr(
                        regions::Column::Boundary,
                        sea_orm::sea_query::Expr::value(r.geometry),
                    )
                    .filter(regions::Column::Code.eq(r.code.as_str()))
                    .exec(&txn)
                    .await?;
                // Adding or changing a boundary counts as an update of that region.
                summary.updated += 1;
            }
        }
        progress.inc(1);
    }
    txn.commit().await?;
    progress.finish();
    Ok(summary)
}

// ---------------------------------------------------------------------------------------------

pub async fn sites(
    db: &DatabaseConnection,
    records: Vec<SiteRecord>,
    progress: &dyn Progress,
) -> Result<Summary, ApplyError> {
    let mut summary = Summary::default();
    progress.start(records.len() as u64);
    let txn = begin_write(db).await?;
    let centroids: HashMap<String, (String, f64, f64)> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Code)
        .column(regions::Column::Level)
        .column(regions::Column::Lat)
        .column(regions::Column::Lon)
        .into_tuple::<(String, String, f64, f64)>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|(c, l, lat, lon)| (c, (l, lat, lon)))
        .collect();
    let mut problems = Vec::new();
    for r in &records {
        match centroids.get(r.region_code.as_str()) {
            None => problems.push(Problem::at(
                r.line,
                "region_code",
                format!("kode wilayah tidak dikenal {}", r.region_code),
            )),
            Some((level, _, _)) => {
                let ok = [
                    RegionLevel::Desa,
                    RegionLevel::Kelurahan,
                    RegionLevel::Kecamatan,
                ]
                .iter()
                .any(|l| l.as_str() == level);
                if !ok {
                    problems.push(Problem::at(
                        r.line,
                        "region_code",
                        format!(
                            "{} adalah {level}; situs harus di desa/kelurahan atau kecamatan",
                            r.region_code
                        ),
                    ));
                }
            }
        }
    }
    fail_if_any(problems)?;

    let existing: HashMap<String, sites::Model> = sites::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| (m.external_id.clone(), m))
        .collect();
    let mut inserts = Vec::new();
    for r in records {
        let (_, clat, clon) = &centroids[r.region_code.as_str()];
        let (lat, lon) = r
            .coordinate
            .map(|c| (c.lat(), c.lon()))
            .unwrap_or((*clat, *clon));
        let wanted = sites::Model {
            id: existing
                .get(&r.external_id)
                .map(|m| m.id)
                .unwrap_or_default(),
            kind: r.kind.as_str().to_string(),
            external_id: r.external_id.clone(),
            name: r.name.clone(),
            address: r.address.clone(),
            region_code: r.region_code.to_string(),
            lat,
            lon,
            coord_quality: r.coord_quality.as_str().to_string(),
            eligible: r.eligible.clone().into(),
            opening_hours: r
                .opening_hours
                .as_ref()
                .map(|h| h.to_string())
                .unwrap_or_default(),
            ownership: r.ownership.clone(),
            contact_name: r.contact_name.clone(),
            contact_email: r.contact_email.clone(),
            contact_phone: r.contact_phone.clone(),
            active: r.active,
            synthetic: r.synthetic,
            counts: r.counts.clone().into(),
            counts_as_of: r.counts_as_of,
            event_date: r.event_date,
        };
        match existing.get(&r.external_id) {
            Some(m) if *m == wanted => {
                summary.unchanged += 1;
                progress.inc(1);
            }
            Some(_) => {
                let id = wanted.id;
                let mut am = sites::ActiveModel::from(wanted).reset_all();
                am.id = sea_orm::ActiveValue::Unchanged(id);
                am.update(&txn).await?;
                summary.updated += 1;
                progress.inc(1);
            }
            None => {
                let mut am = sites::ActiveModel::from(wanted).reset_all();
                am.id = sea_orm::ActiveValue::NotSet;
                inserts.push(am);
            }
        }
    }
    summary.inserted = inserts.len();
    insert_chunks(&txn, inserts, progress).await?;
    txn.commit().await?;
    progress.finish();
    Ok(summary)
}

// ---------------------------------------------------------------------------------------------

pub async fn teams(
    db: &DatabaseConnection,
    records: Vec<TeamRecord>,
    progress: &dyn Progress,
) -> Result<Summary, ApplyError> {
    let mut summary = Summary::default();
    progress.start(records.len() as u64);
    let txn = begin_write(db).await?;
    let known_regions = region_codes(&txn).await?;
    let problems: Vec<Problem> = records
        .iter()
        .filter(|r| !known_regions.contains(r.kabupaten.as_str()))
        .map(|r| {
            Problem::at(
                r.line,
                "kabupaten",
                format!("kode wilayah tidak dikenal {}", r.kabupaten),
            )
        })
        .collect();
    fail_if_any(problems)?;
    for r in records {
        let capabilities: Vec<&str> = r.capabilities.iter().map(|c| c.as_str()).collect();
        let wanted = teams::Model {
            id: 0,
            name: r.name.clone(),
            kabupaten_code: r.kabupaten.to_string(),
            base_name: r.base_name.clone(),
            base_lat: r.base.lat(),
            base_lon: r.base.lon(),
            kits: r.kits,
            capabilities: capabilities.join(";"),
            working_hours: r.working_hours.to_string(),
            printers: r.printers,
            phones: r.phones,
        };
        let existing = teams::Entity::find()
            .filter(teams::Column::Name.eq(&r.name))
            .one(&txn)
            .await?;
        let team_id = match existing {
            None => {
                let mut am = teams::ActiveModel::from(wanted).reset_all();
                am.id = sea_orm::ActiveValue::NotSet;
                summary.inserted += 1;
                am.insert(&txn).await?.id
            }
            Some(m) => {
                let id = m.id;
                let members: Vec<(String, String, String)> = team_members::Entity::find()
                    .filter(team_members::Column::TeamId.eq(id))
                    .all(&txn)
                    .await?
                    .into_iter()
                    .map(|m| (m.email, m.name, m.language))
                    .collect();
                let mut have = members;
                have.sort();
                let want: Vec<(String, String, String)> = r
                    .members
                    .iter()
                    .map(|m| (m.email.clone(), m.name.clone(), m.language.clone()))
                    .collect();
                if (teams::Model {
                    id,
                    ..wanted.clone()
                }) == m
                    && have == want
                {
                    summary.unchanged += 1;
                    progress.inc(1);
                    continue;
                }
                let mut am = teams::ActiveModel::from(teams::Model { id, ..wanted }).reset_all();
                am.id = sea_orm::ActiveValue::Unchanged(id);
                am.update(&txn).await?;
                summary.updated += 1;
                id
            }
        };
        // Members are the file's list for this team: replace them.
        team_members::Entity::delete_many()
            .filter(team_members::Column::TeamId.eq(team_id))
            .exec(&txn)
            .await?;
        let members: Vec<team_members::ActiveModel> = r
            .members
            .into_iter()
            .map(|m| team_members::ActiveModel {
                id: sea_orm::ActiveValue::NotSet,
                team_id: Set(team_id),
                name: Set(m.name),
                email: Set(m.email),
                language: Set(m.language),
            })
            .collect();
        team_members::Entity::insert_many(members)
            .exec_without_returning(&txn)
            .await?;
        progress.inc(1);
    }
    txn.commit().await?;
    progress.finish();
    Ok(summary)
}

// ---------------------------------------------------------------------------------------------

/// Visit outcomes, keyed by (site, day, source); a corrected row updates the figures.
pub async fn visits(
    db: &DatabaseConnection,
    records: Vec<crate::import::VisitRecord>,
    progress: &dyn Progress,
) -> Result<Summary, ApplyError> {
    use crate::store::entity::visit_outcomes;
    let mut summary = Summary::default();
    progress.start(records.len() as u64);
    let txn = begin_write(db).await?;
    let site_ids: HashMap<String, i64> = sites::Entity::find()
        .select_only()
        .column(sites::Column::ExternalId)
        .column(sites::Column::Id)
        .into_tuple::<(String, i64)>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let problems: Vec<Problem> = records
        .iter()
        .filter(|r| !site_ids.contains_key(&r.external_id))
        .map(|r| {
            Problem::at(
                r.line,
                "external_id",
                format!("situs tidak dikenal {}", r.external_id),
            )
        })
        .collect();
    fail_if_any(problems)?;
    let existing: HashMap<(i64, chrono::NaiveDate, String), visit_outcomes::Model> =
        visit_outcomes::Entity::find()
            .all(&txn)
            .await?
            .into_iter()
            .map(|m| ((m.site_id, m.visited_on, m.source.clone()), m))
            .collect();
    let mut inserts = Vec::new();
    for r in records {
        let site_id = site_ids[&r.external_id];
        let delivered: super::entity::json::Counts = r.delivered.clone().into();
        match existing.get(&(site_id, r.visited_on, r.source.clone())) {
            Some(m) if m.delivered == delivered => summary.unchanged += 1,
            Some(m) => {
                let mut am: visit_outcomes::ActiveModel = m.clone().into();
                am.delivered = Set(delivered);
                am.update(&txn).await?;
                summary.updated += 1;
            }
            None => inserts.push(visit_outcomes::ActiveModel {
                id: sea_orm::ActiveValue::NotSet,
                site_id: Set(site_id),
                visited_on: Set(r.visited_on),
                delivered: Set(delivered),
                source: Set(r.source),
            }),
        }
    }
    progress.inc((summary.unchanged + summary.updated) as u64);
    summary.inserted = inserts.len();
    insert_chunks(&txn, inserts, progress).await?;
    txn.commit().await?;
    progress.finish();
    Ok(summary)
}
