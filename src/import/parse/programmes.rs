//! Files of the offices' programmes beyond school visits: dated events (crowd points, the
//! office's extra service days) and the blangko stock.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveTime};

use super::{
    CoordQuality, Problem, SiteKind, SiteRecord, WeeklyHours, duplicates, each_row, parse_count,
    parse_date, read_table,
};
use crate::domain::RegionCode;

/// Columns of `jemput import events`: one row per event (a car-free day, a market day, a
/// service day at the office), with its date, hours and the people expected who still need a
/// service (`expected_<indicator>`, the organiser's estimate).
pub const EVENT_COLUMNS: &[&str] = &[
    "external_id",
    "name",
    "region_code",
    "lat",
    "lon",
    "date",
    "start",
    "end",
];

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn clock(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| format!("jam {s:?} tidak terbaca (contoh 06:00)"))
}

/// Events as sites that exist on their date only (`event_date`), open for the event's hours;
/// kind `keramaian` unless the `kind` column says `kantor`.
pub fn parse_events(data: &[u8]) -> Result<Vec<SiteRecord>, Vec<Problem>> {
    let table = read_table(data, EVENT_COLUMNS)?;
    let expected: Vec<(String, String)> = table.prefixed("expected_");
    let mut problems = Vec::new();
    for (col, indicator) in &expected {
        if let Err(e) = super::figures::parse_indicator_code(indicator) {
            problems.push(Problem::at(1, col, e));
        }
    }
    if expected.is_empty() {
        problems.push(Problem::at(
            1,
            "expected_ikd",
            "perlu setidaknya satu kolom expected_<indikator> (mis. expected_ikd)",
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let rows = each_row(&table, |row| {
        let kind = match row.opt("kind") {
            None => Some(SiteKind::Keramaian),
            Some(_) => row.parse("kind", |k| match SiteKind::parse(k)? {
                k @ (SiteKind::Keramaian | SiteKind::Kantor) => Ok(k),
                other => Err(format!(
                    "acara berjenis keramaian atau kantor, bukan {other}"
                )),
            }),
        };
        let external_id = row.required("external_id");
        let name = row.required("name");
        let region_code = row.code("region_code");
        let coordinate = row.coordinate("lat", "lon");
        let date = row.parse("date", parse_date);
        let start = row.parse("start", clock);
        let end = row.parse("end", clock);
        let quality = match row.opt("coord_quality") {
            None => Some(CoordQuality::Approx),
            Some(_) => row.parse("coord_quality", CoordQuality::parse),
        };
        let mut counts = BTreeMap::new();
        for (col, indicator) in &expected {
            if let Some(Some(n)) = row.parse_opt(col, parse_count) {
                counts.insert(indicator.clone(), n);
            }
        }
        let (date, start, end) = (date?, start?, end?);
        if end <= start {
            row.fail("end", format!("{end} tidak sesudah jam mulai {start}"));
            return None;
        }
        let day = WEEKDAYS[date.weekday().num_days_from_monday() as usize];
        let hours = format!("{day} {}-{}", start.format("%H:%M"), end.format("%H:%M"));
        let hours = row.parse("start", |_| WeeklyHours::parse(&hours))?;
        Some(SiteRecord {
            line: row.line,
            kind: kind?,
            external_id: external_id?,
            name: name?,
            address: row.text("address").to_string(),
            region_code: region_code?,
            coordinate: Some(coordinate?),
            coord_quality: quality?,
            eligible: BTreeMap::new(),
            opening_hours: Some(hours),
            ownership: None,
            contact_name: row.opt("contact_name"),
            contact_email: row.opt("contact_email"),
            contact_phone: row.opt("contact_phone"),
            active: true,
            synthetic: false,
            counts,
            counts_as_of: Some(date),
            event_date: Some(date),
        })
    })?;
    let records: Vec<SiteRecord> = rows.into_iter().map(|(_, r)| r).collect();
    duplicates(
        &records,
        |r| r.external_id.clone(),
        |r| r.line,
        "external_id",
    )?;
    Ok(records)
}

/// One office's blank cards on a day.
#[derive(Debug, Clone, PartialEq)]
pub struct StockRecord {
    pub line: u64,
    /// The kabupaten/kota whose office holds the stock.
    pub region_code: RegionCode,
    pub as_of: NaiveDate,
    pub ktp_el: i64,
    pub kia: i64,
}

/// `region_code,as_of,blangko_ktp_el,blangko_kia`: the blank cards an office holds on a day (the
/// newest row on or before a plan's week counts).
pub fn parse_stock(data: &[u8]) -> Result<Vec<StockRecord>, Vec<Problem>> {
    let table = read_table(
        data,
        &["region_code", "as_of", "blangko_ktp_el", "blangko_kia"],
    )?;
    let rows = each_row(&table, |row| {
        let region_code = row.code("region_code");
        let as_of = row.parse("as_of", parse_date);
        let ktp_el = row.parse("blangko_ktp_el", parse_count);
        let kia = row.parse("blangko_kia", parse_count);
        let region_code = region_code?;
        if region_code.depth() != crate::domain::region::Depth::KabupatenKota {
            row.fail(
                "region_code",
                format!("{region_code}: stok dicatat per kabupaten/kota"),
            );
            return None;
        }
        Some(StockRecord {
            line: row.line,
            region_code,
            as_of: as_of?,
            ktp_el: ktp_el?,
            kia: kia?,
        })
    })?;
    let records: Vec<StockRecord> = rows.into_iter().map(|(_, r)| r).collect();
    duplicates(
        &records,
        |r| format!("{} {}", r.region_code, r.as_of),
        |r| r.line,
        "as_of",
    )?;
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_a_site_of_its_date_open_for_its_hours() {
        let csv = "external_id,name,region_code,lat,lon,date,start,end,expected_ikd,expected_ktp_el\n\
                   CFD-20261213,CFD Alun-alun,35.09.11,-8.169,113.702,2026-12-13,06:00,10:00,120,15\n";
        let rows = parse_events(csv.as_bytes()).unwrap();
        let e = &rows[0];
        assert_eq!(e.kind, SiteKind::Keramaian);
        assert_eq!(e.event_date, NaiveDate::from_ymd_opt(2026, 12, 13));
        assert_eq!(
            e.opening_hours.as_ref().unwrap().to_string(),
            "sun 06:00-10:00"
        );
        assert_eq!(e.counts.get("ikd"), Some(&120));
    }

    #[test]
    fn event_problems_name_their_line_and_column() {
        let csv = "external_id,name,region_code,lat,lon,date,start,end,kind,expected_ikd\n\
                   A,Pasar,35.09,-8.1,113.7,2026-12-12,10:00,09:00,keramaian,10\n\
                   B,Sekolah,35.09,-8.1,113.7,2026-12-12,07:00,09:00,sma,10\n\
                   C,CFD,35.09,-8.1,113.7,13/12/2026,06:00,10:00,,10\n";
        let problems = parse_events(csv.as_bytes()).unwrap_err();
        let at: Vec<(u64, Option<&str>)> = problems
            .iter()
            .map(|p| (p.line, p.column.as_deref()))
            .collect();
        assert_eq!(
            at,
            vec![(2, Some("end")), (3, Some("kind")), (4, Some("date"))]
        );
        let none = "external_id,name,region_code,lat,lon,date,start,end\n";
        assert!(
            parse_events(none.as_bytes()).is_err(),
            "an expected_ column is required"
        );
    }

    #[test]
    fn stock_is_kept_per_kabupaten() {
        let csv = "region_code,as_of,blangko_ktp_el,blangko_kia\n\
                   35.09,2026-11-30,1.500,400\n\
                   35.09.01,2026-11-30,10,10\n";
        let problems = parse_stock(csv.as_bytes()).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 3);
        let ok = parse_stock(
            b"region_code,as_of,blangko_ktp_el,blangko_kia\n35.09,2026-11-30,1.500,400\n",
        )
        .unwrap();
        assert_eq!((ok[0].ktp_el, ok[0].kia), (1500, 400));
    }
}
