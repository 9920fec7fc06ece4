//! Sites: the generic CSV and Dapodik's school export.

use super::*;

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
    /// An event's one date (column `event_date`: a crowd point on a day, `jemput import events`).
    pub event_date: Option<NaiveDate>,
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
    let indicator_columns: Vec<(String, String)> = table.prefixed("eligible_");
    let count_columns: Vec<(String, String)> = table.prefixed("unrecorded_");
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
        let event_date = if row.has("event_date") {
            row.parse_opt("event_date", parse_date)?
        } else {
            None
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
            event_date,
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
            event_date: None,
        })
    })?;
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

// ---------------------------------------------------------------------------------------------
// Coverage and targets
