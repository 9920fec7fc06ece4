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
    let input = parse_form(&form, d, chrono_tz::Asia::Makassar, "id").unwrap();
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
    let fields: Vec<String> = parse_form(&form, d, chrono_tz::Asia::Jakarta, "id")
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["status", "check_in", "count_ktp_el"]);
}

fn form(pairs: &[(&str, &str)]) -> FormFields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn times_are_read_as_people_write_them() {
    for (typed, expected) in [
        ("07.40", "07:40"),
        ("7.40", "07:40"),
        ("7:40", "07:40"),
        ("07:40", "07:40"),
        ("16,05", "16:05"),
    ] {
        assert_eq!(
            parse_clock(typed).map(|t| t.format("%H:%M").to_string()),
            Some(expected.to_string()),
            "{typed}"
        );
    }
    for bad in ["7", "7.4", "24.00", "07.60", "jam 7", "07:40:00", ""] {
        assert_eq!(parse_clock(bad), None, "{bad}");
    }
    let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let input = parse_form(
        &form(&[
            ("status", "selesai"),
            ("check_in", "7.40"),
            ("check_out", "12.05"),
        ]),
        d,
        chrono_tz::Asia::Jakarta,
        "id",
    )
    .unwrap();
    assert_eq!(
        input.check_in.unwrap().at.to_rfc3339(),
        "2026-12-01T07:40:00+07:00"
    );
    assert_eq!(
        input.check_out.unwrap().at.to_rfc3339(),
        "2026-12-01T12:05:00+07:00"
    );
}

/// Every problem at once, each keyed by its field, in the reader's language only, naming the
/// label the reader sees (not a field code, not the other language).
#[test]
fn a_rejected_form_says_every_problem_in_the_readers_words() {
    let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let typed = form(&[
        ("count_kia", "5001"),
        ("check_in", "08.30"),
        ("check_out", "07.15"),
        ("notes", &"x".repeat(2001)),
    ]);
    let id = parse_form(&typed, d, chrono_tz::Asia::Jakarta, "id").unwrap_err();
    let got: Vec<(&str, &str)> = id
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("status", "Pilih hasil kunjungan."),
            (
                "count_kia",
                "KIA terbit: isi bilangan bulat 0 sampai 5.000."
            ),
            ("check_out", "Jam pulang lebih awal dari jam datang."),
            (
                "notes",
                "Catatan paling banyak 2.000 karakter (sekarang 2001)."
            ),
        ]
    );
    let en = parse_form(&typed, d, chrono_tz::Asia::Jakarta, "en").unwrap_err();
    assert_eq!(en[2].message, "Check-out time is before check-in time.");
    assert!(en.iter().all(|e| !e.message.contains("jam")), "{en:?}");

    // The page comes back with what was typed, each bad field marked, its message beside it.
    let visit = FormVisit {
        site_name: "SMAN 1 Jember".into(),
        site_kind: "SMA".into(),
        address: "Jl. Kartini, Kec. Kaliwates".into(),
        date: "Selasa, 1 Desember 2026".into(),
        start: "07:30".into(),
        end: "11:30".into(),
        team_name: "Tim 1".into(),
        osm_url: "https://www.openstreetmap.org/?mlat=-8.17&mlon=113.7".into(),
    };
    let values = typed_values(&typed);
    let page = render_form("id", "/v/x", "k", &visit, &[], Some(&values), None, &id);
    assert!(page.contains(r#"value="08.30""#) && page.contains(r#"value="07.15""#));
    assert!(page.contains(r#"value="5001""#));
    assert!(page.contains(
        r#"id="check_out" name="check_out" value="07.15" placeholder="mis. 12.15" inputmode="decimal" maxlength="5" autocomplete="off" aria-invalid="true" aria-describedby="err_check_out""#
    ), "{page}");
    assert!(page.contains(
        r#"<p class="fe" id="err_check_out">Jam pulang lebih awal dari jam datang.</p>"#
    ));
    assert!(page.contains(r##"<a href="#count_kia">KIA terbit: isi bilangan"##));
    assert!(!page.contains(r#"id="check_in" name="check_in" value="08.30" placeholder="mis. 07.40" inputmode="decimal" maxlength="5" autocomplete="off" aria-invalid"#));
}

#[test]
fn a_log_written_before_the_visits_day_is_flagged() {
    let f = facts();
    // The visit is on 1 December (WIB); logged at 23:30 WIB the evening before.
    assert_eq!(
        flags(&log(10), &f, &RULES, logged("2026-11-30T23:30:00+07:00")),
        vec![Flag::Early]
    );
    assert_eq!(
        flags(&log(10), &f, &RULES, logged("2026-12-01T00:10:00+07:00")),
        vec![]
    );
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
    let id = render_form("id", "/v/x", "k1", &visit, &[], None, None, &[]);
    assert!(id.contains("Simpan laporan"), "{id}");
    assert!(id.contains("SMAN 1 &lt;Jember&gt;"));
    assert!(id.contains(r#"name="idem""#) && id.contains("k1"));
    assert!(!id.contains("<script src"));
    let en = render_form("en", "/v/x", "k1", &visit, &[], None, None, &[]);
    assert!(en.contains("Save report"), "{en}");
    let values = BTreeMap::from([("count_ktp_el".to_string(), "42".to_string())]);
    let edit = render_form(
        "id",
        "/v/x",
        "k2",
        &visit,
        &[],
        Some(&values),
        Some("1 Des 12:00"),
        &[],
    );
    assert!(edit.contains(r#"value="42""#), "{edit}");
    let done = render_done(
        "id",
        &visit,
        2,
        &log(42),
        chrono_tz::Asia::Jakarta,
        &[Flag::Late],
        "/v/x",
    );
    assert!(done.contains("Laporan tersimpan") && done.contains("Revisi ke-2"));
    // What was saved is repeated, as the form labels it.
    assert!(
        done.contains("<dt>Perekaman KTP-el</dt><dd>42</dd>"),
        "{done}"
    );
    assert!(done.contains("<dt>Jam datang</dt><dd>07.30</dd>"), "{done}");
    assert!(done.contains("<dt>Jam pulang</dt><dd>11.30</dd>"), "{done}");
}
