use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::Problem;

mod calendar;
use crate::domain::coverage::check_figures;
use crate::domain::geo::parse_degrees;
use crate::domain::site::parse_capabilities;
use crate::domain::{
    Capability, CoordQuality, Coordinate, RegionCode, RegionLevel, SiteKind, WeeklyHours,
};
pub use calendar::*;

// ---------------------------------------------------------------------------------------------
// A small CSV table reader that keeps line numbers and names columns in its errors.

struct Table {
    columns: HashMap<String, usize>,
    rows: Vec<(u64, csv::StringRecord)>,
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

#[derive(Debug, Clone, PartialEq)]
pub struct RegionRecord {
    pub line: u64,
    pub code: RegionCode,
    pub level: RegionLevel,
    pub name: String,
    pub centroid: Coordinate,
}

/// Regions in the layout of `shared/data/wilayah/*.csv` (provinsi, kabupaten_kota, kecamatan,
/// desa_kelurahan) or the generic `kode,nama,lat,lng[,jenis]`: all share these columns; `jenis`,
/// where present, must agree with the code.
pub fn parse_regions(data: &[u8]) -> Result<Vec<RegionRecord>, Vec<Problem>> {
    let table = read_table(data, &["kode", "nama", "lat", "lng"])?;
    let rows = each_row(&table, |row| {
        let code = row.code("kode");
        let name = row.required("nama");
        let centroid = row.coordinate("lat", "lng");
        let code = code?;
        let level = match row.opt("jenis") {
            Some(j) => match RegionLevel::parse(&j) {
                Ok(l) if l.fits(code.depth()) => l,
                Ok(l) => {
                    row.fail(
                        "jenis",
                        format!("{} tidak cocok dengan kode {code}", l.as_str()),
                    );
                    return None;
                }
                Err(e) => {
                    row.fail("jenis", e);
                    return None;
                }
            },
            None => code.implied_level(),
        };
        Some(RegionRecord {
            line: row.line,
            code,
            level,
            name: name?,
            centroid: centroid?,
        })
    })?;
    let records: Vec<RegionRecord> = rows.into_iter().map(|(_, r)| r).collect();
    duplicates(&records, |r| r.code.to_string(), |r| r.line, "kode")?;
    Ok(records)
}

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
pub struct BoundaryRecord {
    /// Feature number, 1-based.
    pub line: u64,
    pub code: RegionCode,
    /// A GeoJSON MultiPolygon geometry, compact (Polygons are wrapped).
    pub geometry: String,
}

/// Boundaries from a GeoJSON FeatureCollection whose features carry `properties.kode`.
pub fn parse_boundaries(data: &[u8]) -> Result<Vec<BoundaryRecord>, Vec<Problem>> {
    let doc: serde_json::Value = serde_json::from_slice(data).map_err(|e| {
        vec![Problem::line(
            e.line() as u64,
            format!("GeoJSON tidak sah: {e}"),
        )]
    })?;
    let features = doc
        .get("features")
        .and_then(|f| f.as_array())
        .ok_or_else(|| {
            vec![Problem::line(
                1,
                "bukan FeatureCollection GeoJSON (tidak ada \"features\")",
            )]
        })?;
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for (i, feature) in features.iter().enumerate() {
        let n = i as u64 + 1;
        let code = match feature.pointer("/properties/kode").and_then(|k| k.as_str()) {
            Some(k) => match RegionCode::parse(k) {
                Ok(c) => c,
                Err(e) => {
                    problems.push(Problem::at(n, "properties.kode", e));
                    continue;
                }
            },
            None => {
                problems.push(Problem::at(n, "properties.kode", "tidak ada"));
                continue;
            }
        };
        match multipolygon(feature.get("geometry")) {
            Ok(geometry) => out.push(BoundaryRecord {
                line: n,
                code,
                geometry,
            }),
            Err(e) => problems.push(Problem::at(n, "geometry", e)),
        }
    }
    duplicates(&out, |r| r.code.to_string(), |r| r.line, "properties.kode").map_err(|mut d| {
        problems.append(&mut d);
        problems.clone()
    })?;
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn multipolygon(geometry: Option<&serde_json::Value>) -> Result<String, String> {
    let g = geometry.ok_or("tidak ada geometri")?;
    let coords = g.get("coordinates").ok_or("geometri tanpa coordinates")?;
    let polygons = match g.get("type").and_then(|t| t.as_str()) {
        Some("MultiPolygon") => coords.clone(),
        Some("Polygon") => serde_json::Value::Array(vec![coords.clone()]),
        other => return Err(format!("harus Polygon atau MultiPolygon, bukan {other:?}")),
    };
    // Validate the nesting and every position: [[[ [lng, lat], ... ] ring ] polygon ].
    let polys = polygons.as_array().ok_or("coordinates bukan larik")?;
    for poly in polys {
        for ring in poly.as_array().ok_or("poligon bukan larik")? {
            let ring = ring.as_array().ok_or("cincin bukan larik")?;
            if ring.len() < 4 {
                return Err("cincin poligon kurang dari 4 titik".into());
            }
            for pos in ring {
                let lng = pos.get(0).and_then(|v| v.as_f64());
                let lat = pos.get(1).and_then(|v| v.as_f64());
                match (lat, lng) {
                    (Some(lat), Some(lng)) => Coordinate::new(lat, lng)?,
                    _ => return Err("posisi bukan [lng, lat]".into()),
                };
            }
        }
    }
    Ok(serde_json::json!({ "type": "MultiPolygon", "coordinates": polygons }).to_string())
}

// ---------------------------------------------------------------------------------------------
// Sites

#[derive(Debug, Clone, PartialEq)]
pub struct SiteRecord {
    pub line: u64,
    pub kind: SiteKind,
    pub external_id: String,
    pub name: String,
    pub address: String,
    /// Desa/kelurahan where known, else kecamatan.
    pub region_code: RegionCode,
    /// `None`: use the region's centroid (quality becomes `centroid`).
    pub coordinate: Option<Coordinate>,
    pub coord_quality: CoordQuality,
    /// Indicator code → estimated eligible people (zeros omitted).
    pub eligible: BTreeMap<String, i64>,
    pub opening_hours: Option<WeeklyHours>,
    pub ownership: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub active: bool,
    /// Made up by a synthetic data layer (column `synthetic`), not a real place.
    pub synthetic: bool,
    /// The site's own count of people not yet served per indicator (`unrecorded_<indicator>`
    /// columns: a school's list, a desa's register) and its date (`counts_as_of`).
    pub counts: BTreeMap<String, i64>,
    pub counts_as_of: Option<NaiveDate>,
}

/// Columns of the generic sites CSV (see README "Import formats").
pub const GENERIC_SITE_COLUMNS: &[&str] = &[
    "kind",
    "external_id",
    "name",
    "address",
    "region_code",
    "lat",
    "lon",
    "coord_quality",
];
/// Columns that identify the Dapodik layout of `shared/data/sekolah/sekolah_jember_3509.csv`.
pub const DAPODIK_COLUMNS: &[&str] = &[
    "npsn",
    "nama",
    "bentuk",
    "status",
    "alamat",
    "lat",
    "lng",
    "coord_decimals",
    "kec_kode",
    "desa_kode_geo",
    "geo_check",
];

pub fn parse_sites(data: &[u8]) -> Result<Vec<SiteRecord>, Vec<Problem>> {
    let first_line = data.split(|b| *b == b'\n').next().unwrap_or_default();
    let header = String::from_utf8_lossy(first_line).to_ascii_lowercase();
    let records = if header.split(',').any(|c| c.trim() == "npsn") {
        parse_dapodik_sites(data)?
    } else {
        parse_generic_sites(data)?
    };
    duplicates(
        &records,
        |r| r.external_id.clone(),
        |r| r.line,
        "external_id/npsn",
    )?;
    Ok(records)
}

fn parse_generic_sites(data: &[u8]) -> Result<Vec<SiteRecord>, Vec<Problem>> {
    let table = read_table(data, GENERIC_SITE_COLUMNS)?;
    let indicator_columns: Vec<(String, String)> = {
        let mut cols: Vec<&String> = table
            .columns
            .keys()
            .filter(|c| c.starts_with("eligible_"))
            .collect();
        cols.sort();
        cols.into_iter()
            .map(|c| (c.clone(), c.trim_start_matches("eligible_").to_string()))
            .collect()
    };
    let count_columns: Vec<(String, String)> = {
        let mut cols: Vec<&String> = table
            .columns
            .keys()
            .filter(|c| c.starts_with("unrecorded_"))
            .collect();
        cols.sort();
        cols.into_iter()
            .map(|c| (c.clone(), c.trim_start_matches("unrecorded_").to_string()))
            .collect()
    };
    let mut problems = Vec::new();
    for (col, indicator) in indicator_columns.iter().chain(&count_columns) {
        if let Err(e) = parse_indicator_code(indicator) {
            problems.push(Problem::at(1, col, e));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let rows = each_row(&table, |row| {
        let kind = row.parse("kind", SiteKind::parse);
        let external_id = row.required("external_id");
        let name = row.required("name");
        let region_code = row.code("region_code");
        let quality = row.parse("coord_quality", CoordQuality::parse);
        let coordinate = if row.text("lat").is_empty() && row.text("lon").is_empty() {
            None
        } else {
            Some(row.coordinate("lat", "lon")?)
        };
        let mut eligible = BTreeMap::new();
        for (col, indicator) in &indicator_columns {
            if let Some(Some(n)) = row.parse_opt(col, parse_count)
                && n > 0
            {
                eligible.insert(indicator.clone(), n);
            }
        }
        let opening_hours = if row.has("opening_hours") {
            row.parse_opt("opening_hours", WeeklyHours::parse)?
        } else {
            None
        };
        let active = if row.has("active") {
            row.parse_opt("active", parse_bool)?.unwrap_or(true)
        } else {
            true
        };
        let mut counts = BTreeMap::new();
        for (col, indicator) in &count_columns {
            // An empty cell is "no count"; 0 is a count: nobody left.
            if let Some(Some(n)) = row.parse_opt(col, parse_count) {
                counts.insert(indicator.clone(), n);
            }
        }
        let counts_as_of = if row.has("counts_as_of") {
            row.parse_opt("counts_as_of", parse_date)?
        } else {
            None
        };
        let synthetic = if row.has("synthetic") {
            row.parse_opt("synthetic", parse_bool)?.unwrap_or(false)
        } else {
            false
        };
        let ownership = row.opt("ownership");
        Some(SiteRecord {
            line: row.line,
            kind: kind?,
            external_id: external_id?,
            name: name?,
            address: row.text("address").to_string(),
            region_code: region_code?,
            coord_quality: if coordinate.is_some() {
                quality?
            } else {
                CoordQuality::Centroid
            },
            coordinate,
            eligible,
            opening_hours,
            ownership,
            contact_name: row.opt("contact_name"),
            contact_email: row.opt("contact_email"),
            contact_phone: row.opt("contact_phone"),
            active,
            synthetic,
            counts,
            counts_as_of,
        })
    })?;
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

/// Dapodik has no enrolment; estimate from national averages per level (Kemendikbudristek
/// 2023/24 totals over Dapodik unit counts, `shared/data/sekolah/README.md`), smaller for swasta.
/// KTP-el/IKD: grade XII plus part of XI (≈45 % of an SMA); KIA: the under-17 rest; akta: all.
pub fn dapodik_eligible(kind: SiteKind, ownership: &str) -> BTreeMap<String, i64> {
    let mean = match kind {
        SiteKind::Sd => 160.0,
        SiteKind::Smp => 235.0,
        SiteKind::Sma => 370.0,
        SiteKind::Smk => 350.0,
        _ => 60.0, // SLB
    };
    let enrolment: f64 = if ownership == "swasta" {
        mean * 0.75
    } else {
        mean
    };
    let enrolment = enrolment.round() as i64;
    let adult_share = match kind {
        SiteKind::Sma | SiteKind::Smk => 0.45,
        SiteKind::Slb => 0.3,
        _ => 0.0,
    };
    let adults = (enrolment as f64 * adult_share).round() as i64;
    let mut m = BTreeMap::new();
    if adults > 0 {
        m.insert("ktp_el".to_string(), adults);
        m.insert("ikd".to_string(), adults);
    }
    m.insert("kia".to_string(), enrolment - adults);
    m.insert("akta_lahir".to_string(), enrolment);
    m
}

fn parse_dapodik_sites(data: &[u8]) -> Result<Vec<SiteRecord>, Vec<Problem>> {
    let table = read_table(data, DAPODIK_COLUMNS)?;
    let rows = each_row(&table, |row| {
        let npsn = row.parse("npsn", |s| {
            if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
                Ok(s.to_string())
            } else {
                Err(format!("NPSN harus 8 angka: {s:?}"))
            }
        });
        let name = row.required("nama");
        let kind = row.parse("bentuk", SiteKind::from_dapodik);
        let ownership = row.parse("status", |s| match s {
            "negeri" | "swasta" => Ok(s.to_string()),
            _ => Err(format!("status harus negeri atau swasta: {s:?}")),
        });
        let kec = row.code("kec_kode");
        let geo_check = row.text("geo_check").to_string();
        // Coordinates are trusted only when the point lies in the kecamatan Dapodik states;
        // otherwise the stated kecamatan's centroid is the safer place to drive to.
        let (region_code, coordinate, quality) = if geo_check == "ok" {
            let desa = row.code("desa_kode_geo");
            let coordinate = row.coordinate("lat", "lng");
            let decimals = row.parse("coord_decimals", |s| {
                s.parse::<u8>().map_err(|_| format!("bukan angka: {s:?}"))
            });
            let quality = match decimals? {
                d if d >= 4 => CoordQuality::Exact,
                3 => CoordQuality::Approx,
                _ => CoordQuality::Coarse,
            };
            (desa?, Some(coordinate?), quality)
        } else {
            if !row.text("lat").is_empty() || !row.text("lng").is_empty() {
                row.coordinate("lat", "lng")?; // still reject NaN or out-of-range values
            }
            (kec.clone()?, None, CoordQuality::Centroid)
        };
        let kind = kind?;
        let ownership = ownership?;
        Some(SiteRecord {
            line: row.line,
            kind,
            external_id: npsn?,
            name: name?,
            address: row.text("alamat").to_string(),
            region_code,
            coordinate,
            coord_quality: quality,
            eligible: dapodik_eligible(kind, &ownership),
            opening_hours: None,
            ownership: Some(ownership),
            contact_name: None,
            contact_email: None,
            contact_phone: None,
            active: true,
            synthetic: false,
            counts: BTreeMap::new(),
            counts_as_of: None,
        })
    })?;
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

// ---------------------------------------------------------------------------------------------
// Coverage and targets

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
fn parse_indicator_code(s: &str) -> Result<String, String> {
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
}

pub const NATIONAL_SCOPE: &str = "nasional";

/// `indicator,year,scope,percent`; scope is `nasional` or a region code.
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
        Some(TargetRecord {
            line: row.line,
            indicator: indicator?,
            year: year?,
            region: region?,
            percent: percent?,
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
mod tests {
    use super::*;

    #[test]
    fn regions_in_the_shared_desa_layout_parse() {
        let csv = "kode,kode_digit,prov_kode,kab_kode,kec_kode,nama,jenis,kodepos,lat,lng\n\
                   35.09.01.2001,3509012001,35,35.09,35.09.01,Keting,desa,68168,-8.25,113.35\n\
                   35.09.22.1001,3509221001,35,35.09,35.09.22,Kebonsari,kelurahan,68122,-8.18,113.68\n";
        let r = parse_regions(csv.as_bytes()).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].level, RegionLevel::Desa);
        assert_eq!(r[1].level, RegionLevel::Kelurahan);
        assert_eq!(r[1].line, 3);
    }

    #[test]
    fn every_bad_row_is_reported_with_line_and_column() {
        let csv = "kode,nama,lat,lng\n35.09,Jember,-8.1,113.7\n35.09.01,Jombang,NaN,113.3\n\
                   35.9,X,-8,113\n35.09.02,Kencong,-8.2,200\n";
        let p = parse_regions(csv.as_bytes()).unwrap_err();
        let got: Vec<(u64, Option<&str>)> =
            p.iter().map(|p| (p.line, p.column.as_deref())).collect();
        assert_eq!(
            got,
            vec![(3, Some("lat")), (4, Some("kode")), (5, Some("lng"))]
        );
    }

    #[test]
    fn wrong_header_and_malformed_lines_are_problems() {
        let p = parse_regions(b"code,name,lat,lng\n35,Jatim,-7,112\n").unwrap_err();
        assert_eq!(p[0].line, 1);
        assert_eq!(p[0].column.as_deref(), Some("kode"));
        let p = parse_regions(b"kode,nama,lat,lng\n35,Jatim,-7\n").unwrap_err();
        assert_eq!(p[0].line, 2);
        assert!(p[0].message.contains("3 kolom"), "{}", p[0].message);
    }

    #[test]
    fn an_overlong_value_is_a_problem_at_its_line_and_column() {
        let name = "A".repeat(10 * 1024 * 1024);
        let csv =
            format!("kode,nama,lat,lng\n35,Jawa Timur,-7.7,112.7\n35.09,\"{name}\",-8.1,113.7\n");
        let p = parse_regions(csv.as_bytes()).unwrap_err();
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].line, p[0].column.as_deref()), (3, Some("nama")));
        assert!(
            p[0].message
                .contains("10485760 karakter, paling banyak 200"),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn a_semicolon_separated_file_is_named_as_such_once() {
        let csv = "kind;external_id;name;address;region_code;lat;lon;coord_quality\n\
                   sd;20523521;SDN A;;35.09.01.2001;-8,2;113,3;exact\n";
        let p = parse_sites(csv.as_bytes()).unwrap_err();
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].line, 1);
        assert!(p[0].message.contains("titik koma (;)"), "{}", p[0].message);
        // A comma file whose values hold semicolons is read as usual.
        let csv = "kode,nama,lat,lng\n35,Jawa Timur; Indonesia,-7.7,112.7\n";
        assert_eq!(
            parse_regions(csv.as_bytes()).unwrap()[0].name,
            "Jawa Timur; Indonesia"
        );
    }

    #[test]
    fn duplicate_npsn_names_both_lines() {
        let csv = "kind,external_id,name,address,region_code,lat,lon,coord_quality\n\
                   sd,20523521,SDN A,,35.09.01.2001,-8.2,113.3,exact\n\
                   sd,20523521,SDN B,,35.09.01.2001,-8.2,113.3,exact\n";
        let p = parse_sites(csv.as_bytes()).unwrap_err();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].line, 3);
        assert!(p[0].message.contains("baris 2"));
    }

    #[test]
    fn coverage_over_100_needs_the_flag_and_percent_is_checked() {
        let csv = "region_code,indicator,eligible,holders,as_of,source,percent\n\
                   35.09.01,akta_lahir,1000,1002,2024-09-30,x,\n";
        assert_eq!(
            parse_coverage(csv.as_bytes(), false).unwrap_err()[0]
                .column
                .as_deref(),
            Some("holders")
        );
        assert_eq!(parse_coverage(csv.as_bytes(), true).unwrap().len(), 1);
        let csv = "region_code,indicator,eligible,holders,as_of,source,percent\n\
                   35.09.01,kia,1000,500,2024-09-30,x,101\n";
        assert_eq!(
            parse_coverage(csv.as_bytes(), true).unwrap_err()[0]
                .column
                .as_deref(),
            Some("percent")
        );
    }

    #[test]
    fn team_rows_fold_into_teams() {
        let head = "team,kabupaten,base_name,base_lat,base_lon,kits,capabilities,working_hours,member_name,member_email,member_language\n";
        let row = |email: &str, kits: u8| {
            format!(
                "Tim 1,35.09,Kantor,-8.16,113.71,{kits},ktp_el;kia,mon-fri 07:30-15:30,Ani,{email},id\n"
            )
        };
        let ok = format!(
            "{head}{}{}",
            row("a@example.org", 2),
            row("b@example.org", 2)
        );
        let teams = parse_teams(ok.as_bytes()).unwrap();
        assert_eq!(teams.len(), 1);
        assert_eq!(teams[0].members.len(), 2);
        let bad = format!(
            "{head}{}{}",
            row("a@example.org", 2),
            row("b@example.org", 3)
        );
        assert_eq!(parse_teams(bad.as_bytes()).unwrap_err()[0].line, 3);
    }

    #[test]
    fn geojson_polygons_become_multipolygons() {
        let gj = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"kode":"35.09"},"geometry":{"type":"Polygon",
           "coordinates":[[[113.1,-8.1],[113.2,-8.1],[113.2,-8.2],[113.1,-8.1]]]}},
          {"type":"Feature","properties":{"kode":"35.10"},"geometry":{"type":"Polygon",
           "coordinates":[[[113.1,-98.1],[113.2,-8.1],[113.2,-8.2],[113.1,-8.1]]]}}]}"#;
        let p = parse_boundaries(gj.as_bytes()).unwrap_err();
        assert_eq!((p[0].line, p[0].column.as_deref()), (2, Some("geometry")));
    }
}

// ---------------------------------------------------------------------------------------------
// Visit outcomes

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
