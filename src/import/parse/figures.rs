//! Coverage snapshots and targets.

use super::*;
use crate::domain::coverage::TargetBasis;

#[derive(Debug, Clone, PartialEq)]
pub struct CoverageRecord {
    pub line: u64,
    pub region_code: RegionCode,
    pub indicator: String,
    pub eligible: i64,
    pub holders: i64,
    pub as_of: NaiveDate,
    pub source: String,
}

/// `region_code,indicator,eligible,holders,as_of,source[,percent]`. A stated percent must be
/// at most 100 and agree with the counts to 0.01 points.
pub fn parse_coverage(
    data: &[u8],
    allow_over_100: bool,
) -> Result<Vec<CoverageRecord>, Vec<Problem>> {
    let table = read_table(
        data,
        &[
            "region_code",
            "indicator",
            "eligible",
            "holders",
            "as_of",
            "source",
        ],
    )?;
    let rows = each_row(&table, |row| {
        let region_code = row.code("region_code");
        let indicator = row.parse("indicator", parse_indicator_code);
        let eligible = row.count("eligible");
        let holders = row.count("holders");
        let as_of = row.parse("as_of", parse_date);
        let source = row.required("source");
        let (eligible, holders) = (eligible?, holders?);
        if let Err(e) = check_figures(eligible, holders, allow_over_100) {
            row.fail("holders", e);
            return None;
        }
        if let Some(Some(p)) = row.parse_opt("percent", parse_percent) {
            let actual = if eligible > 0 {
                holders as f64 * 100.0 / eligible as f64
            } else {
                0.0
            };
            if (actual - p).abs() > 0.01 {
                row.fail(
                    "percent",
                    format!("{p} tidak cocok dengan holders/eligible = {actual:.2}"),
                );
                return None;
            }
        }
        Some(CoverageRecord {
            line: row.line,
            region_code: region_code?,
            indicator: indicator?,
            eligible,
            holders,
            as_of: as_of?,
            source: source?,
        })
    })?;
    let records: Vec<CoverageRecord> = rows.into_iter().map(|(_, r)| r).collect();
    duplicates(
        &records,
        |r| format!("{} {} {} {}", r.region_code, r.indicator, r.as_of, r.source),
        |r| r.line,
        "region_code",
    )?;
    Ok(records)
}

/// Indicator codes are lowercase identifiers; whether one exists is checked against the
/// `indicators` table (it is extensible).
pub(super) fn parse_indicator_code(s: &str) -> Result<String, String> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        Ok(s.to_string())
    } else {
        Err(format!("kode indikator tidak sah {s:?}"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TargetRecord {
    pub line: u64,
    pub indicator: String,
    pub year: i32,
    /// `None` = national default.
    pub region: Option<RegionCode>,
    pub percent: f64,
    /// What the percent is a share of (optional column `basis`: `wajib_ktp` or `ktp_el`).
    pub basis: TargetBasis,
}

pub const NATIONAL_SCOPE: &str = "nasional";

/// `indicator,year,scope,percent[,basis]`; scope is `nasional` or a region code; basis (empty =
/// the indicator's own eligible people) `wajib_ktp` or `ktp_el` (a share of KTP-el holders).
pub fn parse_targets(data: &[u8]) -> Result<Vec<TargetRecord>, Vec<Problem>> {
    let table = read_table(data, &["indicator", "year", "scope", "percent"])?;
    let rows = each_row(&table, |row| {
        let indicator = row.parse("indicator", parse_indicator_code);
        let year = row.parse("year", |s| match s.parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => Ok(y),
            _ => Err(format!("tahun tidak sah {s:?}")),
        });
        let region = row.parse("scope", |s| {
            if s == NATIONAL_SCOPE {
                Ok(None)
            } else {
                RegionCode::parse(s).map(Some)
            }
        });
        let percent = row.parse("percent", parse_percent);
        let basis = row
            .parse_opt("basis", TargetBasis::parse)
            .map(Option::unwrap_or_default);
        Some(TargetRecord {
            line: row.line,
            indicator: indicator?,
            year: year?,
            region: region?,
            percent: percent?,
            basis: basis?,
        })
    })?;
    let records: Vec<TargetRecord> = rows.into_iter().map(|(_, r)| r).collect();
    duplicates(
        &records,
        |r| format!("{} {} {:?}", r.indicator, r.year, r.region),
        |r| r.line,
        "scope",
    )?;
    Ok(records)
}

// ---------------------------------------------------------------------------------------------
// Teams
