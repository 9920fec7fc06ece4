use super::*;

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn facts() -> VisitFacts {
    VisitFacts {
        site: Some(Coordinate::new(-8.1700, 113.7000).unwrap()),
        visit_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        time_zone: chrono_tz::Asia::Jakarta,
        kits: 2,
        minutes_per_person: BTreeMap::from([("ktp_el".into(), 5.0), ("ikd".into(), 3.0)]),
    }
}

const RULES: FlagRules = FlagRules {
    far_check_in_m: 1000.0,
    late_hours: 48,
    capacity_tolerance: 1.25,
};

fn log(ktp_el: u32) -> LogInput {
    LogInput {
        status: Status::Selesai,
        counts: BTreeMap::from([("ktp_el".into(), ktp_el)]),
        turned_away: BTreeMap::new(),
        check_in: Some(Fix {
            at: at("2026-12-01T07:30:00+07:00"),
            lat: Some(-8.1705),
            lon: Some(113.7003),
        }),
        check_out: Some(Fix {
            at: at("2026-12-01T11:30:00+07:00"),
            lat: None,
            lon: None,
        }),
        notes: String::new(),
    }
}

fn logged(s: &str) -> DateTime<Utc> {
    at(s).with_timezone(&Utc)
}

#[test]
fn a_plausible_log_has_no_flags() {
    // 4 h × 2 kits = 480 kit-minutes ≥ 80 × 5 = 400.
    assert_eq!(
        flags(
            &log(80),
            &facts(),
            &RULES,
            logged("2026-12-01T12:00:00+07:00")
        ),
        vec![]
    );
}

#[test]
fn each_anomaly_raises_its_flag() {
    let f = facts();
    let noon = logged("2026-12-01T12:00:00+07:00");
    // 4 h × 2 kits × 1.25 = 600 kit-minutes < 121 × 5.
    assert_eq!(flags(&log(121), &f, &RULES, noon), vec![Flag::OverCapacity]);
    assert_eq!(flags(&log(120), &f, &RULES, noon), vec![]);
    let mut far = log(10);
    far.check_in.as_mut().unwrap().lat = Some(-8.1900); // about 2.2 km south
    assert_eq!(flags(&far, &f, &RULES, noon), vec![Flag::FarCheckIn]);
    // The day ends at midnight WIB on 1 December; 48 h later is 3 December 24:00.
    assert_eq!(
        flags(&log(10), &f, &RULES, logged("2026-12-03T23:59:00+07:00")),
        vec![]
    );
    assert_eq!(
        flags(&log(10), &f, &RULES, logged("2026-12-04T00:01:00+07:00")),
        vec![Flag::Late]
    );
    assert_eq!(flags(&log(0), &f, &RULES, noon), vec![Flag::ZeroOutput]);
    let mut cancelled = log(0);
    cancelled.status = Status::Batal;
    assert_eq!(flags(&cancelled, &f, &RULES, noon), vec![]);
}

#[test]
fn validation_reports_every_bad_field() {
    let mut bad = log(10);
    bad.counts.insert("paspor".into(), 1);
    bad.counts.insert("kia".into(), 5001);
    bad.turned_away.insert("hujan".into(), 2);
    bad.check_in.as_mut().unwrap().lat = Some(f64::NAN);
    bad.check_out.as_mut().unwrap().at = at("2026-12-01T07:00:00+07:00");
    bad.notes = "x".repeat(2001);
    let fields: Vec<String> = bad
        .validate()
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        [
            "counts.kia",
            "counts.paspor",
            "turned_away.hujan",
            "check_in",
            "check_out",
            "notes"
        ]
    );
}

#[test]
fn the_json_body_refuses_unknown_fields_and_statuses() {
    assert!(serde_json::from_str::<LogInput>(r#"{"status":"selesai","nik":"3509"}"#).is_err());
    assert!(serde_json::from_str::<LogInput>(r#"{"status":"done"}"#).is_err());
    let ok: LogInput =
        serde_json::from_str(r#"{"status":"tidak_hadir","counts":{"ikd":3}}"#).unwrap();
    assert_eq!(ok.status, Status::TidakHadir);
    assert_eq!(ok.delivered(), BTreeMap::from([("ikd".to_string(), 3)]));
}

#[test]
fn the_form_parses_local_times_and_blank_fields() {
    let form: FormFields = [
        ("status", "sebagian"),
        ("count_ktp_el", "42"),
        ("count_kia", ""),
        ("away_blangko_habis", "7"),
        ("check_in", "07:45"),
        ("lat_in", "-8.17"),
        ("lon_in", "113.70"),
        ("check_out", ""),
        ("notes", "  printer panas  "),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let input = parse_form(&form, d, chrono_tz::Asia::Makassar).unwrap();
    assert_eq!(input.status, Status::Sebagian);
    assert_eq!(input.counts, BTreeMap::from([("ktp_el".into(), 42)]));
    assert_eq!(
        input.turned_away,
        BTreeMap::from([("blangko_habis".into(), 7)])
    );
    let ci = input.check_in.clone().unwrap();
    assert_eq!(ci.at.to_rfc3339(), "2026-12-01T07:45:00+08:00");
    assert_eq!((ci.lat, ci.lon), (Some(-8.17), Some(113.70)));
    assert!(input.check_out.is_none());
    assert_eq!(input.notes, "printer panas");
    // And back into the form's values.
    let values = form_values(&input, chrono_tz::Asia::Makassar);
    assert_eq!(values["check_in"], "07:45");
    assert_eq!(values["count_ktp_el"], "42");
}

#[test]
fn a_bad_form_names_its_fields() {
    let form: FormFields = [("count_ktp_el", "banyak"), ("check_in", "7 pagi")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let fields: Vec<String> = parse_form(&form, d, chrono_tz::Asia::Jakarta)
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["status", "count_ktp_el", "check_in"]);
}

#[test]
fn the_form_renders_in_both_languages_and_escapes() {
    let visit = FormVisit {
        site_name: "SMAN 1 <Jember>".into(),
        site_kind: "sma".into(),
        address: "Jl. Kartini".into(),
        date: "Selasa, 1 Desember 2026".into(),
        start: "07:30".into(),
        end: "11:30".into(),
        team_name: "Tim 1".into(),
        osm_url: "https://www.openstreetmap.org/?mlat=-8.17&mlon=113.7".into(),
    };
    let id = render_form("id", "/v/x", "k1", &visit, &[], None, &[]);
    assert!(id.contains("Simpan laporan"), "{id}");
    assert!(id.contains("SMAN 1 &lt;Jember&gt;"));
    assert!(id.contains(r#"name="idem""#) && id.contains("k1"));
    assert!(!id.contains("<script src"));
    let en = render_form("en", "/v/x", "k1", &visit, &[], None, &[]);
    assert!(en.contains("Save report"), "{en}");
    let values = BTreeMap::from([("count_ktp_el".to_string(), "42".to_string())]);
    let edit = render_form(
        "id",
        "/v/x",
        "k2",
        &visit,
        &[],
        Some((&values, "1 Des 12:00")),
        &[],
    );
    assert!(edit.contains(r#"value="42""#), "{edit}");
    let done = render_done("id", &visit, 2, Status::Selesai, &[Flag::Late], "/v/x");
    assert!(done.contains("Laporan tersimpan") && done.contains('2'));
}
