//! Regions (CSV) and their boundaries (GeoJSON).

use super::*;

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
