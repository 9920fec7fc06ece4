//! Imports are all-or-nothing, idempotent, and name the file, line and column of every problem.

use jemput::import::{Dataset, NoProgress};
use jemput::services::importing::{self, ImportError, Options};

use crate::helpers::{TestApp, dump};
use crate::on_both_backends;

const REGIONS: &str = "kode,nama,lat,lng,jenis\n\
35,Jawa Timur,-7.719383,112.732440,\n\
35.09,Kabupaten Jember,-8.172,113.700,kabupaten\n\
35.09.01,Jombang,-8.247,113.336,\n\
35.09.02,Kencong,-8.283,113.370,\n\
35.09.01.2001,Keting,-8.254,113.351,desa\n\
35.09.01.2002,Sarimulyo,-8.240,113.320,desa\n\
35.09.02.2001,Kencong,-8.283,113.371,desa\n";

const TEAMS: &str = "team,kabupaten,base_name,base_lat,base_lon,kits,capabilities,working_hours,member_name,member_email,member_language\n\
Tim 1,35.09,Kantor Dispendukcapil,-8.1629,113.7167,3,ktp_el;kia,mon-thu 07:30-15:30; fri 07:30-11:00,Ani,ani@example.org,id\n\
Tim 1,35.09,Kantor Dispendukcapil,-8.1629,113.7167,3,ktp_el;kia,mon-thu 07:30-15:30; fri 07:30-11:00,Budi,budi@example.org,en\n";

async fn import(
    app: &TestApp,
    dataset: Dataset,
    name: &str,
    csv: &str,
    options: &Options,
) -> Result<jemput::import::Summary, ImportError> {
    let geojson = name.ends_with(".geojson");
    importing::import_bytes(
        &app.db,
        dataset,
        name,
        csv.as_bytes(),
        geojson,
        options,
        &NoProgress,
    )
    .await
}

async fn seed(app: &TestApp) {
    import(
        app,
        Dataset::Regions,
        "regions.csv",
        REGIONS,
        &Options::default(),
    )
    .await
    .unwrap();
    import(app, Dataset::Teams, "teams.csv", TEAMS, &Options::default())
        .await
        .unwrap();
    let coverage = "region_code,indicator,eligible,holders,as_of,source\n35.09.01,kia,1000,450,2024-09-30,test\n";
    import(
        app,
        Dataset::Coverage,
        "coverage.csv",
        coverage,
        &Options::default(),
    )
    .await
    .unwrap();
}

/// A generic sites CSV of `n` valid rows; `line` numbers count the header as line 1.
fn sites_csv(n: usize) -> Vec<String> {
    let mut lines = vec![
        "kind,external_id,name,address,region_code,lat,lon,coord_quality,eligible_ktp_el,eligible_kia,opening_hours".to_string(),
    ];
    let desa = ["35.09.01.2001", "35.09.01.2002", "35.09.02.2001"];
    for i in 0..n {
        lines.push(format!(
            "sd,9{i:07},SD Uji {i},Jl. Uji {i},{},-8.{:04},113.{:04},exact,0,{},mon-sat 07:00-12:00",
            desa[i % 3],
            2000 + i,
            3000 + i,
            100 + i % 50
        ));
    }
    lines
}

pub async fn a_bad_row_in_a_1000_row_file_fails_and_changes_nothing(app: &TestApp) {
    seed(app).await;
    let before = dump(&app.db).await;
    // (line to break, field index, new value, column the error must name)
    let cases = [
        (501, 5, "91", "lat"),
        (700, 6, "NaN", "lon"),
        (250, 4, "35.09.09.2001", "region_code"), // no such kecamatan: caught against the database
        (900, 1, "90000008", "external_id/npsn"), // the NPSN of line 10
        (333, 11, "extra", ""),                   // one field too many: a malformed line
        (42, 10, "mon-sat 12:00-07:00", "opening_hours"),
    ];
    for (line, field, value, column) in cases {
        let mut lines = sites_csv(1000);
        let mut fields: Vec<&str> = lines[line - 1].split(',').collect();
        if field < fields.len() {
            fields[field] = value
        } else {
            fields.push(value)
        }
        lines[line - 1] = fields.join(",");
        let path = app.write_file("sites.csv", &(lines.join("\n") + "\n"));
        let (ok, _, stderr) = app.jemput(&["import", "sites", path.to_str().unwrap()]);
        assert!(!ok, "line {line}: the import must fail");
        let needle = if column.is_empty() {
            format!("sites.csv:{line}: ")
        } else {
            format!("sites.csv:{line}: kolom {column}: ")
        };
        assert!(
            stderr.contains(&needle),
            "line {line}: expected {needle:?} in:\n{stderr}"
        );
        assert_eq!(
            dump(&app.db).await,
            before,
            "line {line}: the database changed"
        );
    }

    // The same file without the bad row imports; a second run changes nothing.
    let path = app.write_file("sites.csv", &(sites_csv(1000).join("\n") + "\n"));
    let (ok, stdout, stderr) = app.jemput(&["import", "sites", path.to_str().unwrap(), "--json"]);
    assert!(ok, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["inserted"], 1000);
    let (ok, stdout, _) = app.jemput(&["import", "sites", path.to_str().unwrap(), "--json"]);
    assert!(ok);
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (summary["inserted"].as_u64(), summary["unchanged"].as_u64()),
        (Some(0), Some(1000))
    );
}

pub async fn a_wrong_header_is_refused_before_anything_is_read(app: &TestApp) {
    seed(app).await;
    let before = dump(&app.db).await;
    let err = import(
        app,
        Dataset::Sites,
        "s.csv",
        "jenis,nomor\nsd,1\n",
        &Options::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.problems()[0].line, 1);
    assert!(err.to_string().contains("s.csv:1: kolom kind"), "{err}");
    assert_eq!(dump(&app.db).await, before);
}

pub async fn coverage_history_is_kept_and_the_latest_snapshot_wins(app: &TestApp) {
    seed(app).await;
    let newer = "region_code,indicator,eligible,holders,as_of,source\n35.09.01,kia,1000,520,2025-03-31,test\n";
    let s = import(app, Dataset::Coverage, "c.csv", newer, &Options::default())
        .await
        .unwrap();
    assert_eq!(s.inserted, 1);
    let (_, body) = app.get("/api/v1/regions/35.09.01").await;
    let kia = body["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["indicator"] == "kia")
        .unwrap()
        .clone();
    assert_eq!(kia["holders"], 520);
    assert_eq!(kia["as_of"], "2025-03-31");

    // Same snapshot key with different figures: refused, history untouched.
    let before = dump(&app.db).await;
    let conflicting = "region_code,indicator,eligible,holders,as_of,source\n35.09.01,kia,1000,600,2025-03-31,test\n";
    let err = import(
        app,
        Dataset::Coverage,
        "c.csv",
        conflicting,
        &Options::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("c.csv:2: kolom holders"), "{err}");
    assert_eq!(dump(&app.db).await, before);

    // Holders above eligible only with the explicit flag.
    let over = "region_code,indicator,eligible,holders,as_of,source\n35.09.02,akta_lahir,1000,1002,2025-03-31,test\n";
    let err = import(app, Dataset::Coverage, "o.csv", over, &Options::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--allow-over-100"), "{err}");
    assert_eq!(dump(&app.db).await, before);
    let opts = Options {
        allow_over_100: true,
        ..Options::default()
    };
    assert_eq!(
        import(app, Dataset::Coverage, "o.csv", over, &opts)
            .await
            .unwrap()
            .inserted,
        1
    );

    // Unknown region and unknown indicator are named.
    let unknown = "region_code,indicator,eligible,holders,as_of,source\n35.09.07,kia,10,5,2025-03-31,t\n35.09.01,paspor,10,5,2025-03-31,t\n";
    let err = import(
        app,
        Dataset::Coverage,
        "u.csv",
        unknown,
        &Options::default(),
    )
    .await
    .unwrap_err();
    let located: Vec<_> = err
        .problems()
        .iter()
        .map(|p| (p.line, p.column.clone().unwrap()))
        .collect();
    assert_eq!(
        located,
        vec![(2, "region_code".to_string()), (3, "indicator".to_string())]
    );
}

pub async fn a_region_target_overrides_the_national_one(app: &TestApp) {
    seed(app).await;
    let targets = "indicator,year,scope,percent\nkia,2025,nasional,60\nkia,2025,35.09,65\nktp_el,2025,nasional,99.4\n";
    assert_eq!(
        import(app, Dataset::Targets, "t.csv", targets, &Options::default())
            .await
            .unwrap()
            .inserted,
        3
    );
    let (_, body) = app.get("/api/v1/regions/35.09.01?year=2025").await;
    let kia = body["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["indicator"] == "kia")
        .unwrap()
        .clone();
    assert_eq!(kia["target_percent"], 65.0);
    assert_eq!(kia["target_scope"], "35.09");
    assert_eq!(kia["percent"], 45.0);
    assert_eq!(kia["gap_points"], 20.0);
    // A later year without its own row falls back to the latest earlier one.
    let (_, body) = app.get("/api/v1/regions/35.09.01?year=2026").await;
    let ktp = body["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["indicator"] == "ktp_el")
        .unwrap()
        .clone();
    assert_eq!(ktp["target_percent"], 99.4);
    // A percent above 100 is refused.
    let bad = "indicator,year,scope,percent\nkia,2025,nasional,100.5\n";
    let err = import(app, Dataset::Targets, "t.csv", bad, &Options::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("t.csv:2: kolom percent"), "{err}");
}

pub async fn teams_upsert_by_name_and_replace_their_members(app: &TestApp) {
    seed(app).await;
    let s = import(app, Dataset::Teams, "teams.csv", TEAMS, &Options::default())
        .await
        .unwrap();
    assert_eq!((s.inserted, s.updated, s.unchanged), (0, 0, 1));
    let changed = TEAMS.replace("Budi,budi@example.org,en", "Citra,citra@example.org,id");
    let s = import(
        app,
        Dataset::Teams,
        "teams.csv",
        &changed,
        &Options::default(),
    )
    .await
    .unwrap();
    assert_eq!(s.updated, 1);
    let (_, body) = app.get("/api/v1/teams").await;
    let members: Vec<&str> = body["items"][0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["ani@example.org", "citra@example.org"]);
}

pub async fn boundaries_attach_to_known_regions_only(app: &TestApp) {
    seed(app).await;
    let feature = |code: &str| {
        format!(
            r#"{{"type":"Feature","properties":{{"kode":"{code}"}},"geometry":{{"type":"Polygon","coordinates":[[[113.3,-8.2],[113.4,-8.2],[113.4,-8.3],[113.3,-8.2]]]}}}}"#
        )
    };
    let before = dump(&app.db).await;
    let bad = format!(
        r#"{{"type":"FeatureCollection","features":[{},{}]}}"#,
        feature("35.09.01"),
        feature("35.09.05")
    );
    let err = import(
        app,
        Dataset::Regions,
        "b.geojson",
        &bad,
        &Options::default(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("b.geojson:2: kolom properties.kode"),
        "{err}"
    );
    assert_eq!(dump(&app.db).await, before);
    let good = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        feature("35.09.01")
    );
    assert_eq!(
        import(
            app,
            Dataset::Regions,
            "b.geojson",
            &good,
            &Options::default()
        )
        .await
        .unwrap()
        .updated,
        1
    );
    assert_eq!(
        import(
            app,
            Dataset::Regions,
            "b.geojson",
            &good,
            &Options::default()
        )
        .await
        .unwrap()
        .unchanged,
        1
    );
    let (_, body) = app.get("/api/v1/regions/35.09.01?boundary=true").await;
    assert_eq!(body["has_boundary"], true);
    assert_eq!(body["boundary"]["type"], "MultiPolygon");
}

pub async fn a_desa_without_its_kecamatan_is_refused(app: &TestApp) {
    seed(app).await;
    let before = dump(&app.db).await;
    let orphan = "kode,nama,lat,lng\n35.09.03.2001,Sumberagung,-8.2,113.4\n";
    let err = import(app, Dataset::Regions, "r.csv", orphan, &Options::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("r.csv:2: kolom kode: wilayah induk 35.09.03"),
        "{err}"
    );
    assert_eq!(dump(&app.db).await, before);
}

/// The school calendar: all-or-nothing with every problem named; re-importing changes nothing;
/// a corrected end updates the row.
pub async fn the_school_calendar_imports_all_or_nothing(app: &TestApp) {
    seed(app).await;
    let before = dump(&app.db).await;
    let bad = "region_code,name,start,end,kinds\n\
               35.09,PAS ganjil,2026-12-07,2026-12-12,sma;smk\n\
               35.77,Libur,2026-12-21,2027-01-02,\n\
               35.09,Ujian,2026-12-12,2026-12-07,universitas\n";
    let err = import(
        app,
        Dataset::Calendar,
        "kalender.csv",
        bad,
        &Options::default(),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("kalender.csv:4: kolom end"), "{text}");
    assert!(text.contains("kalender.csv:4: kolom kinds"), "{text}");
    assert_eq!(dump(&app.db).await, before, "nothing written");
    // Only the unknown region is left: refused, by line, in the write transaction.
    let unknown = "region_code,name,start,end,kinds\n35.09,PAS ganjil,2026-12-07,2026-12-12,sma\n35.77,Libur,2026-12-21,2027-01-02,\n";
    let err = import(
        app,
        Dataset::Calendar,
        "k.csv",
        unknown,
        &Options::default(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("k.csv:3: kolom region_code: kode wilayah tidak dikenal 35.77"),
        "{err}"
    );
    assert_eq!(dump(&app.db).await, before, "nothing written");
    let good = "region_code,name,start,end,kinds\n35.09,PAS ganjil,2026-12-07,2026-12-12,sma;smk\n35,Libur semester,2026-12-21,2027-01-02,\n";
    let first = import(app, Dataset::Calendar, "k.csv", good, &Options::default())
        .await
        .unwrap();
    assert_eq!((first.inserted, first.updated), (2, 0));
    let again = import(app, Dataset::Calendar, "k.csv", good, &Options::default())
        .await
        .unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 2));
    let longer = good.replace("2026-12-12,sma;smk", "2026-12-13,sma;smk");
    let third = import(
        app,
        Dataset::Calendar,
        "k.csv",
        &longer,
        &Options::default(),
    )
    .await
    .unwrap();
    assert_eq!((third.inserted, third.updated), (0, 1));
    let monday = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    let closures = jemput::store::calendar::closures(
        &app.db,
        &jemput::domain::RegionCode::parse("35.09.01").unwrap(),
        monday,
        monday + chrono::Duration::days(6),
    )
    .await
    .unwrap();
    assert_eq!(closures.len(), 1, "the holiday starts the week after");
    assert_eq!(
        closures[0].ends_on,
        chrono::NaiveDate::from_ymd_opt(2026, 12, 13).unwrap()
    );
}

/// A site's own count and synthetic flag, a team's printers and phones come in as columns.
pub async fn sites_carry_their_own_counts_and_teams_their_equipment(app: &TestApp) {
    seed(app).await;
    let sites = "kind,external_id,name,address,region_code,lat,lon,coord_quality,eligible_ktp_el,unrecorded_ktp_el,counts_as_of,synthetic\n\
                 sma,20523843,SMAN 1 Jombang,Jl. Uji,35.09.01.2001,-8.25,113.35,exact,167,84,2026-07-01,false\n\
                 paud,99000001,KB Melati,Desa Keting,35.09.01.2001,-8.25,113.35,synthetic,,,,true\n";
    import(app, Dataset::Sites, "s.csv", sites, &Options::default())
        .await
        .unwrap();
    let (_, page) = app.get("/api/v1/sites?region=35.09").await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items[0]["counts"]["ktp_el"], 84);
    assert_eq!(items[0]["counts_as_of"], "2026-07-01");
    assert_eq!(items[0]["synthetic"], false);
    assert_eq!(items[1]["synthetic"], true);
    let bad = sites.replace("84,2026-07-01", "84,1 Juli");
    let err = import(app, Dataset::Sites, "s.csv", &bad, &Options::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("s.csv:2: kolom counts_as_of"),
        "{err}"
    );
    let teams = TEAMS
        .replace(
            "working_hours,member_name",
            "working_hours,printers,phones,member_name",
        )
        .replace("11:00,Ani", "11:00,2,3,Ani")
        .replace("11:00,Budi", "11:00,2,3,Budi");
    import(app, Dataset::Teams, "t.csv", &teams, &Options::default())
        .await
        .unwrap();
    use sea_orm::EntityTrait;
    let team = jemput::store::entity::teams::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((team.printers, team.phones), (Some(2), Some(3)));
}

on_both_backends!(
    the_school_calendar_imports_all_or_nothing,
    sites_carry_their_own_counts_and_teams_their_equipment,
    a_bad_row_in_a_1000_row_file_fails_and_changes_nothing,
    a_wrong_header_is_refused_before_anything_is_read,
    coverage_history_is_kept_and_the_latest_snapshot_wins,
    a_region_target_overrides_the_national_one,
    teams_upsert_by_name_and_replace_their_members,
    boundaries_attach_to_known_regions_only,
    a_desa_without_its_kecamatan_is_refused,
);
