//! Coverage snapshots and targets, each file applied in one transaction.

use super::*;

// ---------------------------------------------------------------------------------------------

async fn indicator_codes(txn: &impl ConnectionTrait) -> Result<HashSet<String>, sea_orm::DbErr> {
    let codes: Vec<String> = indicators::Entity::find()
        .select_only()
        .column(indicators::Column::Code)
        .into_tuple()
        .all(txn)
        .await?;
    Ok(codes.into_iter().collect())
}

/// Coverage history is never overwritten: a snapshot with the same region, indicator, as-of date
/// and source but different figures is refused (import it with a new as-of date instead).
pub async fn coverage(
    db: &DatabaseConnection,
    records: Vec<CoverageRecord>,
    progress: &dyn Progress,
) -> Result<Summary, ApplyError> {
    let mut summary = Summary::default();
    progress.start(records.len() as u64);
    let txn = begin_write(db).await?;
    let known_regions = region_codes(&txn).await?;
    let known_indicators = indicator_codes(&txn).await?;
    let existing: HashMap<(String, String, chrono::NaiveDate, String), (i64, i64)> =
        coverage_snapshots::Entity::find()
            .all(&txn)
            .await?
            .into_iter()
            .map(|m| {
                (
                    (m.region_code, m.indicator, m.as_of, m.source),
                    (m.eligible, m.holders),
                )
            })
            .collect();
    let mut problems = Vec::new();
    let mut inserts = Vec::new();
    for r in records {
        if !known_regions.contains(r.region_code.as_str()) {
            problems.push(Problem::at(
                r.line,
                "region_code",
                format!("kode wilayah tidak dikenal {}", r.region_code),
            ));
            continue;
        }
        if !known_indicators.contains(&r.indicator) {
            problems.push(Problem::at(
                r.line,
                "indicator",
                format!("indikator tidak dikenal {}", r.indicator),
            ));
            continue;
        }
        let key = (
            r.region_code.to_string(),
            r.indicator.clone(),
            r.as_of,
            r.source.clone(),
        );
        match existing.get(&key) {
            Some(&(e, h)) if e == r.eligible && h == r.holders => summary.unchanged += 1,
            Some(&(e, h)) => problems.push(Problem::at(
                r.line,
                "holders",
                format!(
                    "cakupan {} {} per {} dari sumber ini sudah tercatat ({h}/{e}); riwayat tidak ditimpa, \
                     pakai tanggal as_of baru",
                    r.region_code, r.indicator, r.as_of
                ),
            )),
            None => inserts.push(coverage_snapshots::ActiveModel {
                id: sea_orm::ActiveValue::NotSet,
                region_code: Set(r.region_code.to_string()),
                indicator: Set(r.indicator),
                eligible: Set(r.eligible),
                holders: Set(r.holders),
                as_of: Set(r.as_of),
                source: Set(r.source),
            }),
        }
    }
    fail_if_any(problems)?;
    progress.inc(summary.unchanged as u64);
    summary.inserted = inserts.len();
    insert_chunks(&txn, inserts, progress).await?;
    txn.commit().await?;
    progress.finish();
    Ok(summary)
}

pub async fn targets(
    db: &DatabaseConnection,
    records: Vec<TargetRecord>,
    progress: &dyn Progress,
) -> Result<Summary, ApplyError> {
    let mut summary = Summary::default();
    progress.start(records.len() as u64);
    let txn = begin_write(db).await?;
    let known_regions = region_codes(&txn).await?;
    let known_indicators = indicator_codes(&txn).await?;
    let mut problems = Vec::new();
    for r in &records {
        if let Some(region) = &r.region
            && !known_regions.contains(region.as_str())
        {
            problems.push(Problem::at(
                r.line,
                "scope",
                format!("kode wilayah tidak dikenal {region}"),
            ));
        }
        if !known_indicators.contains(&r.indicator) {
            problems.push(Problem::at(
                r.line,
                "indicator",
                format!("indikator tidak dikenal {}", r.indicator),
            ));
        }
    }
    fail_if_any(problems)?;
    let existing: HashMap<(String, i32, String), targets::Model> = targets::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| ((m.indicator.clone(), m.year, m.scope.clone()), m))
        .collect();
    for r in records {
        let scope = r
            .region
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_else(|| NATIONAL_SCOPE.to_string());
        let basis = r.basis.as_str().to_string();
        match existing.get(&(r.indicator.clone(), r.year, scope.clone())) {
            Some(m) if m.percent == r.percent && m.basis == basis => summary.unchanged += 1,
            Some(m) => {
                let mut am: targets::ActiveModel = m.clone().into();
                am.percent = Set(r.percent);
                am.basis = Set(basis);
                am.update(&txn).await?;
                summary.updated += 1;
            }
            None => {
                targets::ActiveModel {
                    id: sea_orm::ActiveValue::NotSet,
                    indicator: Set(r.indicator),
                    year: Set(r.year),
                    scope: Set(scope),
                    percent: Set(r.percent),
                    basis: Set(basis),
                }
                .insert(&txn)
                .await?;
                summary.inserted += 1;
            }
        }
        progress.inc(1);
    }
    txn.commit().await?;
    progress.finish();
    Ok(summary)
}
