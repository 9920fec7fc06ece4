//! Visit outcomes recorded outside jemput.

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub struct VisitRecord {
    pub line: u64,
    pub external_id: String,
    pub visited_on: NaiveDate,
    pub delivered: BTreeMap<String, i64>,
    pub source: String,
}

/// `external_id,visited_on,source` plus `delivered_<indicator>` columns (people served).
pub fn parse_visits(data: &[u8]) -> Result<Vec<VisitRecord>, Vec<Problem>> {
    let table = read_table(data, &["external_id", "visited_on", "source"])?;
    let mut delivered_columns: Vec<(String, String)> = table
        .columns
        .keys()
        .filter(|c| c.starts_with("delivered_"))
        .map(|c| (c.clone(), c.trim_start_matches("delivered_").to_string()))
        .collect();
    delivered_columns.sort();
    let rows = each_row(&table, |row| {
        let external_id = row.required("external_id");
        let visited_on = row.parse("visited_on", |s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| format!("tanggal harus YYYY-MM-DD: {s:?}"))
        });
        let source = row.required("source");
        let mut delivered = BTreeMap::new();
        for (col, indicator) in &delivered_columns {
            if let Some(Some(n)) = row.parse_opt(col, parse_count)
                && n > 0
            {
                delivered.insert(indicator.clone(), n);
            }
        }
        Some(VisitRecord {
            line: row.line,
            external_id: external_id?,
            visited_on: visited_on?,
            delivered,
            source: source?,
        })
    })?;
    let records: Vec<VisitRecord> = rows.into_iter().map(|(_, r)| r).collect();
    duplicates(
        &records,
        |r| format!("{} {} {}", r.external_id, r.visited_on, r.source),
        |r| r.line,
        "external_id",
    )?;
    Ok(records)
}
