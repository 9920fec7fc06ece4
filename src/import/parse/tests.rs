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
    let got: Vec<(u64, Option<&str>)> = p.iter().map(|p| (p.line, p.column.as_deref())).collect();
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
    let csv = format!("kode,nama,lat,lng\n35,Jawa Timur,-7.7,112.7\n35.09,\"{name}\",-8.1,113.7\n");
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
