use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::Problem;

mod calendar;
mod figures;
mod programmes;
mod regions;
mod sites;
mod visits;
use crate::domain::coverage::check_figures;
use crate::domain::geo::parse_degrees;
use crate::domain::site::parse_capabilities;
use crate::domain::{
    Capability, CoordQuality, Coordinate, RegionCode, RegionLevel, SiteKind, WeeklyHours,
};
pub use calendar::*;
pub use figures::*;
pub use programmes::*;
pub use regions::*;
pub use sites::*;
pub use visits::*;

// ---------------------------------------------------------------------------------------------
// A small CSV table reader that keeps line numbers and names columns in its errors.

struct Table {
    columns: HashMap<String, usize>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl Table {
    /// (column, what follows the prefix) of every column named `{prefix}…`, sorted: the
    /// per-indicator columns (`eligible_kia`, `unrecorded_ktp_el`, `expected_ikd`).
    fn prefixed(&self, prefix: &str) -> Vec<(String, String)> {
        let mut cols: Vec<&String> = self
            .columns
            .keys()
            .filter(|c| c.starts_with(prefix))
            .collect();
        cols.sort();
        cols.into_iter()
            .map(|c| (c.clone(), c.trim_start_matches(prefix).to_string()))
            .collect()
    }
}

/// The longest value a column may hold, in characters: identifiers fit their database column,
/// names a sign-board, anything else a long address. A 10 MB quoted name was once accepted.
fn max_chars(column: &str) -> usize {
    match column {
        "external_id" | "npsn" | "kode" | "region_code" | "kode_wilayah" => 64,
        "nama" | "name" | "base_name" | "nama_markas" | "source" | "sumber" => 200,
        _ => 1000,
    }
}

/// A header that is not comma-separated but semicolon-separated: what Excel writes as "CSV" in
/// the Indonesian (and most European) locales, where the comma is the decimal mark.
fn semicolon_header(data: &[u8], required: &[&str]) -> bool {
    let first = data.split(|b| *b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first).to_ascii_lowercase();
    first.contains(';')
        && first
            .split(';')
            .filter(|c| required.contains(&c.trim()))
            .count()
            > first
                .split(',')
                .filter(|c| required.contains(&c.trim()))
                .count()
}

/// Read a whole CSV. A malformed line (wrong field count, bad UTF-8) is a problem at its line;
/// missing required columns are problems at line 1; a value longer than its column allows is a
/// problem at its line and column.
fn read_table(data: &[u8], required: &[&str]) -> Result<Table, Vec<Problem>> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data); // Excel's UTF-8 BOM
    if semicolon_header(data, required) {
        return Err(vec![Problem::line(
            1,
            "berkas dipisah titik koma (;), bukan koma: simpan ulang dari Excel sebagai \
             \"CSV UTF-8 (Comma delimited)\" dengan titik sebagai tanda desimal / the file is \
             semicolon-separated (Excel in the Indonesian locale): save it as CSV UTF-8, comma \
             delimited, with a point as the decimal mark",
        )]);
    }
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(data);
    let header = reader
        .headers()
        .map_err(|e| vec![Problem::line(1, format!("header tidak terbaca: {e}"))])?
        .clone();
    let columns: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_ascii_lowercase(), i))
        .collect();
    let missing: Vec<Problem> = required
        .iter()
        .filter(|c| !columns.contains_key(**c))
        .map(|c| Problem::at(1, c, "kolom wajib tidak ada di header"))
        .collect();
    if !missing.is_empty() {
        let mut missing = missing;
        missing[0]
            .message
            .push_str(&format!(" (header harus memuat: {})", required.join(",")));
        return Err(missing);
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for rec in reader.records() {
        match rec {
            Ok(r) => {
                let line = r.position().map(|p| p.line()).unwrap_or(0);
                if r.iter().all(|f| f.trim().is_empty()) {
                    continue; // blank line
                }
                let before = problems.len();
                for (name, &i) in &columns {
                    let n = r.get(i).map_or(0, |v| v.chars().count());
                    if n > max_chars(name) {
                        problems.push(Problem::at(
                            line,
                            name,
                            format!(
                                "terlalu panjang: {n} karakter, paling banyak {} / too long",
                                max_chars(name)
                            ),
                        ));
                    }
                }
                if problems.len() == before {
                    rows.push((line, r));
                }
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                let msg = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("baris rusak: {len} kolom, seharusnya {expected_len}")
                    }
                    csv::ErrorKind::Utf8 { .. } => "baris rusak: bukan UTF-8".to_string(),
                    _ => format!("baris rusak: {e}"),
                };
                problems.push(Problem::line(line, msg));
            }
        }
    }
    if problems.is_empty() {
        Ok(Table { columns, rows })
    } else {
        Err(problems)
    }
}

/// One row plus the problems found in it so far.
struct Row<'a> {
    line: u64,
    rec: &'a csv::StringRecord,
    columns: &'a HashMap<String, usize>,
    problems: &'a mut Vec<Problem>,
}

impl Row<'_> {
    fn has(&self, col: &str) -> bool {
        self.columns.contains_key(col)
    }

    fn text(&self, col: &str) -> &str {
        self.columns
            .get(col)
            .and_then(|&i| self.rec.get(i))
            .map(str::trim)
            .unwrap_or("")
    }

    fn opt(&self, col: &str) -> Option<String> {
        let t = self.text(col);
        (!t.is_empty()).then(|| t.to_string())
    }

    fn fail(&mut self, col: &str, msg: impl Into<String>) {
        self.problems.push(Problem::at(self.line, col, msg));
    }

    fn required(&mut self, col: &str) -> Option<String> {
        let t = self.text(col).to_string();
        if t.is_empty() {
            self.fail(col, "wajib diisi");
            None
        } else {
            Some(t)
        }
    }

    fn parse<T>(&mut self, col: &str, f: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let t = self.required(col)?;
        match f(&t) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(col, e);
                None
            }
        }
    }

    fn parse_opt<T>(
        &mut self,
        col: &str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        if self.text(col).is_empty() {
            return Some(None);
        }
        self.parse(col, f).map(Some)
    }

    fn code(&mut self, col: &str) -> Option<RegionCode> {
        self.parse(col, RegionCode::parse)
    }

    fn count(&mut self, col: &str) -> Option<i64> {
        self.parse(col, parse_count)
    }

    /// A coordinate from two columns; NaN, infinities and out-of-range values are problems.
    fn coordinate(&mut self, lat_col: &str, lon_col: &str) -> Option<Coordinate> {
        let lat = self.parse(lat_col, parse_degrees)?;
        let lon = self.parse(lon_col, parse_degrees)?;
        match Coordinate::new(lat, lon) {
            Ok(c) => Some(c),
            Err(e) => {
                let col = if e.starts_with("lintang") {
                    lat_col
                } else {
                    lon_col
                };
                self.fail(col, e);
                None
            }
        }
    }
}

fn parse_count(s: &str) -> Result<i64, String> {
    // Accept "2.018.069" (Indonesian thousands separators) and "2,018,069" but no decimals.
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, '.' | ',' | '_' | ' '))
        .collect();
    let v: i64 = digits
        .parse()
        .map_err(|_| format!("bukan bilangan bulat: {s:?}"))?;
    if v < 0 {
        return Err(format!("tidak boleh negatif: {s}"));
    }
    Ok(v)
}

fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .replace(',', ".")
        .trim_end_matches('%')
        .trim()
        .parse()
        .map_err(|_| format!("bukan persentase: {s:?}"))?;
    if !v.is_finite() || !(0.0..=100.0).contains(&v) {
        return Err(format!("persentase harus 0..100, bukan {s}"));
    }
    Ok(v)
}

pub(super) fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("tanggal harus YYYY-MM-DD: {s:?}"))
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "ya" | "yes" | "aktif" => Ok(true),
        "false" | "0" | "tidak" | "no" | "nonaktif" => Ok(false),
        _ => Err(format!("bukan nilai ya/tidak: {s:?}")),
    }
}

/// Run `f` over every row, collecting problems from all of them before failing.
fn each_row<T>(
    table: &Table,
    mut f: impl FnMut(&mut Row<'_>) -> Option<T>,
) -> Result<Vec<(u64, T)>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(table.rows.len());
    for (line, rec) in &table.rows {
        let before = problems.len();
        let mut row = Row {
            line: *line,
            rec,
            columns: &table.columns,
            problems: &mut problems,
        };
        let value = f(&mut row);
        if problems.len() == before
            && let Some(v) = value
        {
            out.push((*line, v));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

// ---------------------------------------------------------------------------------------------
// Regions

/// Reject a key that appears twice in one file, naming both lines.
fn duplicates<T>(
    records: &[T],
    key: impl Fn(&T) -> String,
    line: impl Fn(&T) -> u64,
    column: &str,
) -> Result<(), Vec<Problem>> {
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut problems = Vec::new();
    for r in records {
        if let Some(first) = seen.insert(key(r), line(r)) {
            problems.push(Problem::at(
                line(r),
                column,
                format!(
                    "{} muncul dua kali dalam berkas (juga di baris {first})",
                    key(r)
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeamRecord {
    pub line: u64,
    pub name: String,
    pub kabupaten: RegionCode,
    pub base_name: String,
    pub base: Coordinate,
    pub kits: i32,
    /// Laptop-and-printer sets and phones (optional columns `printers`, `phones`).
    pub printers: Option<i32>,
    pub phones: Option<i32>,
    pub capabilities: Vec<Capability>,
    pub working_hours: WeeklyHours,
    pub members: Vec<MemberRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemberRecord {
    pub email: String,
    pub name: String,
    pub language: String,
}

/// One row per member; the team's columns repeat and must agree on every row of that team.
/// `team,kabupaten,base_name,base_lat,base_lon,kits,capabilities,working_hours,member_name,
/// member_email,member_language`.
pub fn parse_teams(data: &[u8]) -> Result<Vec<TeamRecord>, Vec<Problem>> {
    let table = read_table(
        data,
        &[
            "team",
            "kabupaten",
            "base_name",
            "base_lat",
            "base_lon",
            "kits",
            "capabilities",
            "working_hours",
            "member_name",
            "member_email",
            "member_language",
        ],
    )?;
    let rows = each_row(&table, |row| {
        let name = row.required("team");
        let kabupaten = row.code("kabupaten");
        let base_name = row.required("base_name");
        let base = row.coordinate("base_lat", "base_lon");
        let kits = row.parse("kits", |s| match s.parse::<i32>() {
            Ok(k) if (1..=20).contains(&k) => Ok(k),
            _ => Err(format!("jumlah alat rekam harus 1..20: {s:?}")),
        });
        let equipment = |s: &str| match s.parse::<i32>() {
            Ok(k) if (1..=20).contains(&k) => Ok(k),
            _ => Err(format!("jumlah harus 1..20: {s:?}")),
        };
        let printers = if row.has("printers") {
            row.parse_opt("printers", equipment)
        } else {
            Some(None)
        };
        let phones = if row.has("phones") {
            row.parse_opt("phones", equipment)
        } else {
            Some(None)
        };
        let capabilities = row.parse("capabilities", parse_capabilities);
        let hours = row.parse("working_hours", WeeklyHours::parse);
        let member_name = row.required("member_name");
        let email = row.parse("member_email", |s| {
            let ok = s
                .split_once('@')
                .is_some_and(|(u, d)| !u.is_empty() && d.contains('.') && !s.contains(' '));
            if ok {
                Ok(s.to_ascii_lowercase())
            } else {
                Err(format!("alamat email tidak sah {s:?}"))
            }
        });
        let language = row.parse("member_language", |s| match s {
            "id" | "en" => Ok(s.to_string()),
            _ => Err(format!("bahasa harus id atau en: {s:?}")),
        });
        if let Some(k) = &kabupaten
            && k.depth() != crate::domain::region::Depth::KabupatenKota
        {
            row.fail("kabupaten", format!("{k} bukan kode kabupaten/kota"));
            return None;
        }
        Some(TeamRecord {
            line: row.line,
            name: name?,
            kabupaten: kabupaten?,
            base_name: base_name?,
            base: base?,
            kits: kits?,
            printers: printers?,
            phones: phones?,
            capabilities: capabilities?,
            working_hours: hours?,
            members: vec![MemberRecord {
                email: email?,
                name: member_name?,
                language: language?,
            }],
        })
    })?;
    // Fold member rows into teams, in first-appearance order.
    let mut teams: Vec<TeamRecord> = Vec::new();
    let mut problems = Vec::new();
    for (line, rec) in rows {
        match teams.iter_mut().find(|t| t.name == rec.name) {
            None => teams.push(rec),
            Some(team) => {
                let same = team.kabupaten == rec.kabupaten
                    && team.base_name == rec.base_name
                    && team.base == rec.base
                    && team.kits == rec.kits
                    && team.printers == rec.printers
                    && team.phones == rec.phones
                    && team.capabilities == rec.capabilities
                    && team.working_hours == rec.working_hours;
                if !same {
                    problems.push(Problem::at(line, "team", format!(
                        "data tim {} berbeda dengan baris {} (kolom tim harus sama di setiap baris anggota)",
                        rec.name, team.line
                    )));
                } else if team.members.iter().any(|m| m.email == rec.members[0].email) {
                    problems.push(Problem::at(
                        line,
                        "member_email",
                        format!("{} sudah terdaftar di {}", rec.members[0].email, rec.name),
                    ));
                } else {
                    team.members.extend(rec.members);
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    for t in &mut teams {
        t.members.sort();
    }
    Ok(teams)
}

#[cfg(test)]
mod tests;
