//! The school calendar: exam weeks and holidays that close schools (and PAUD) to visits.

use chrono::NaiveDate;

use super::{Problem, duplicates, each_row, parse_date, read_table};
use crate::domain::{RegionCode, SiteKind};

/// Kinds a calendar entry with an empty `kinds` column closes: every school and PAUD kind.
pub const SCHOOL_KINDS: &[SiteKind] = &[
    SiteKind::Paud,
    SiteKind::Tk,
    SiteKind::Ra,
    SiteKind::Sd,
    SiteKind::Mi,
    SiteKind::Smp,
    SiteKind::Mts,
    SiteKind::Sma,
    SiteKind::Smk,
    SiteKind::Ma,
    SiteKind::Slb,
];

#[derive(Debug, Clone, PartialEq)]
pub struct CalendarRecord {
    pub line: u64,
    /// Sites inside this region (a province, kabupaten/kota or finer).
    pub region_code: RegionCode,
    pub name: String,
    pub starts_on: NaiveDate,
    /// Inclusive.
    pub ends_on: NaiveDate,
    /// Sorted; never empty (an empty column means [`SCHOOL_KINDS`]).
    pub kinds: Vec<SiteKind>,
}

/// `region_code,name,start,end[,kinds]`: one closure per row, e.g.
/// `35,PAS semester ganjil 2026/2027,2026-12-07,2026-12-12,sd;mi;smp;mts;sma;smk;ma`.
/// Key: region, name and start; a duplicate in the file is an error naming both lines.
pub fn parse_calendar(data: &[u8]) -> Result<Vec<CalendarRecord>, Vec<Problem>> {
    let table = read_table(data, &["region_code", "name", "start", "end"])?;
    let rows = each_row(&table, |row| {
        let region_code = row.code("region_code");
        let name = row.required("name");
        let starts_on = row.parse("start", parse_date);
        let ends_on = row.parse("end", parse_date);
        let kinds = match row.opt("kinds") {
            None => Some(SCHOOL_KINDS.to_vec()),
            Some(list) => row.parse("kinds", |_| {
                let mut kinds = list
                    .split([';', ','])
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(SiteKind::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                kinds.sort();
                kinds.dedup();
                Ok(kinds)
            }),
        };
        let (starts_on, ends_on) = (starts_on?, ends_on?);
        if ends_on < starts_on {
            row.fail(
                "end",
                format!("{ends_on} sebelum tanggal mulai {starts_on}"),
            );
            return None;
        }
        if (ends_on - starts_on).num_days() > 366 {
            row.fail("end", "satu baris kalender paling lama satu tahun");
            return None;
        }
        Some(CalendarRecord {
            line: row.line,
            region_code: region_code?,
            name: name?,
            starts_on,
            ends_on,
            kinds: kinds?,
        })
    })?;
    let records: Vec<CalendarRecord> = rows.into_iter().map(|(_, r)| r).collect();
    duplicates(
        &records,
        |r| format!("{} {} {}", r.region_code, r.name, r.starts_on),
        |r| r.line,
        "name",
    )?;
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_rows_parse_and_problems_name_their_line() {
        let csv = "region_code,name,start,end,kinds\n\
                   35,PAS ganjil,2026-12-07,2026-12-12,sma;smk\n\
                   35.09,Libur semester,2026-12-21,2027-01-02,\n";
        let rows = parse_calendar(csv.as_bytes()).unwrap();
        assert_eq!(rows[0].kinds, vec![SiteKind::Sma, SiteKind::Smk]);
        assert_eq!(rows[1].kinds, SCHOOL_KINDS.to_vec());
        let bad = "region_code,name,start,end,kinds\n\
                   35,Ujian,2026-12-12,2026-12-07,sma\n\
                   35,Libur,2026-12-21,2027-01-02,universitas\n";
        let problems = parse_calendar(bad.as_bytes()).unwrap_err();
        assert_eq!(problems.len(), 2);
        assert_eq!(
            (problems[0].line, problems[0].column.as_deref()),
            (2, Some("end"))
        );
        assert_eq!(
            (problems[1].line, problems[1].column.as_deref()),
            (3, Some("kinds"))
        );
    }
}
