//! Blangko stock per kabupaten/kota: import (all-or-nothing upsert by region and day) and the
//! stock a week's plan may spend.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::entity::blangko_stock;
use super::import::{ApplyError, region_codes, unknown_regions};
use super::{StoreError, begin_write};
use crate::import::{Progress, StockRecord, Summary};

/// Upsert stock rows by (region, as_of); an unknown region fails the whole file.
pub async fn import(
    db: &DatabaseConnection,
    records: Vec<StockRecord>,
    progress: &dyn Progress,
) -> Result<Summary, ApplyError> {
    let mut summary = Summary::default();
    progress.start(records.len() as u64);
    let txn = begin_write(db).await?;
    let known = region_codes(&txn).await?;
    unknown_regions(&known, records.iter().map(|r| (r.line, &r.region_code)))?;
    for r in records {
        let existing = blangko_stock::Entity::find()
            .filter(blangko_stock::Column::RegionCode.eq(r.region_code.as_str()))
            .filter(blangko_stock::Column::AsOf.eq(r.as_of))
            .one(&txn)
            .await?;
        let (ktp_el, kia) = (r.ktp_el as i32, r.kia as i32);
        match existing {
            Some(m) if m.ktp_el == ktp_el && m.kia == kia => summary.unchanged += 1,
            Some(m) => {
                let mut am: blangko_stock::ActiveModel = m.into();
                am.ktp_el = Set(ktp_el);
                am.kia = Set(kia);
                am.update(&txn).await?;
                summary.updated += 1;
            }
            None => {
                blangko_stock::ActiveModel {
                    id: sea_orm::ActiveValue::NotSet,
                    region_code: Set(r.region_code.to_string()),
                    as_of: Set(r.as_of),
                    ktp_el: Set(ktp_el),
                    kia: Set(kia),
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

/// The newest stock of a kabupaten/kota on or before `day`: (as_of, KTP-el blanks, KIA blanks).
pub async fn stock_on(
    db: &DatabaseConnection,
    kabupaten: &str,
    day: NaiveDate,
) -> Result<Option<(NaiveDate, u32, u32)>, StoreError> {
    Ok(blangko_stock::Entity::find()
        .filter(blangko_stock::Column::RegionCode.eq(kabupaten))
        .filter(blangko_stock::Column::AsOf.lte(day))
        .order_by_desc(blangko_stock::Column::AsOf)
        .one(db)
        .await?
        .map(|m| (m.as_of, m.ktp_el.max(0) as u32, m.kia.max(0) as u32)))
}
