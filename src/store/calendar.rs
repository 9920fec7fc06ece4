//! The school calendar: import (all-or-nothing upsert) and the closures that touch a week.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::entity::school_calendar;
use super::import::{ApplyError, region_codes, unknown_regions};
use super::{StoreError, begin_write};
use crate::domain::calendar::Closure;
use crate::domain::{RegionCode, SiteKind};
use crate::import::{CalendarRecord, Progress, Summary};

fn kinds_text(kinds: &[SiteKind]) -> String {
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

/// Upsert calendar rows by (region, name, start): a changed end or kinds list updates the row.
pub async fn import(
    db: &DatabaseConnection,
    records: Vec<CalendarRecord>,
    progress: &dyn Progress,
) -> Result<Summary, ApplyError> {
    let mut summary = Summary::default();
    progress.start(records.len() as u64);
    let txn = begin_write(db).await?;
    let known = region_codes(&txn).await?;
    unknown_regions(&known, records.iter().map(|r| (r.line, &r.region_code)))?;
    for r in records {
        let existing = school_calendar::Entity::find()
            .filter(school_calendar::Column::RegionCode.eq(r.region_code.as_str()))
            .filter(school_calendar::Column::Name.eq(&r.name))
            .filter(school_calendar::Column::StartsOn.eq(r.starts_on))
            .one(&txn)
            .await?;
        let kinds = kinds_text(&r.kinds);
        match existing {
            Some(m) if m.ends_on == r.ends_on && m.kinds == kinds => summary.unchanged += 1,
            Some(m) => {
                let mut am: school_calendar::ActiveModel = m.into();
                am.ends_on = Set(r.ends_on);
                am.kinds = Set(kinds);
                am.update(&txn).await?;
                summary.updated += 1;
            }
            None => {
                school_calendar::ActiveModel {
                    id: sea_orm::ActiveValue::NotSet,
                    region_code: Set(r.region_code.to_string()),
                    name: Set(r.name),
                    starts_on: Set(r.starts_on),
                    ends_on: Set(r.ends_on),
                    kinds: Set(kinds),
                }
                .insert(&txn)
                .await?;
                summary.inserted += 1;
            }
        }
        progress.inc(1);
    }
    txn.commit().await.map_err(StoreError::from)?;
    progress.finish();
    Ok(summary)
}

/// Closures that overlap `[from, to]` and apply to sites inside `region` (entries for the
/// region itself, its ancestors or anything inside it).
pub async fn closures(
    db: &DatabaseConnection,
    region: &RegionCode,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Closure>, StoreError> {
    let rows = school_calendar::Entity::find()
        .filter(school_calendar::Column::StartsOn.lte(to))
        .filter(school_calendar::Column::EndsOn.gte(from))
        .order_by_asc(school_calendar::Column::StartsOn)
        .order_by_asc(school_calendar::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let code = RegionCode::parse(&r.region_code).ok()?;
            (region.is_within(&code) || code.is_within(region)).then(|| Closure {
                region: code,
                name: r.name,
                starts_on: r.starts_on,
                ends_on: r.ends_on,
                kinds: r
                    .kinds
                    .split(';')
                    .filter_map(|k| SiteKind::parse(k).ok())
                    .collect(),
            })
        })
        .collect())
}
