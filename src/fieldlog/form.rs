//! The HTML form behind the per-visit link: its fields, reading a submission into a
//! [`LogInput`], the values a stored log shows again, and the pages (form, saved, error).

use super::*;

/// The fields of the HTML form, as the browser sends them (all strings, empty when left blank).
pub type FormFields = std::collections::HashMap<String, String>;

/// The form's own field names, in the order the form shows them.
pub fn form_field_names() -> Vec<String> {
    let mut names = vec!["status".to_string(), "check_in".into()];
    names.extend(["lat_in", "lon_in"].map(String::from));
    names.extend(SERVICES.iter().map(|s| format!("count_{}", s.0)));
    names.extend(REASONS.iter().map(|r| format!("away_{}", r.0)));
    names.extend(["check_out", "lat_out", "lon_out", "notes"].map(String::from));
    names
}

/// What the reader typed, to show again beside the errors (unknown fields are dropped).
pub fn typed_values(form: &FormFields) -> BTreeMap<String, String> {
    form_field_names()
        .into_iter()
        .filter_map(|k| form.get(&k).map(|v| (k, v.clone())))
        .collect()
}

/// The label the form shows for a field, in the reader's language.
pub fn field_label(field: &str, lang: &str) -> String {
    let en = lang == "en";
    let pick = |list: &[(&str, &str, &str)], key: &str| {
        list.iter()
            .find(|x| x.0 == key)
            .map(|x| if en { x.2 } else { x.1 }.to_string())
    };
    if let Some(k) = field.strip_prefix("count_")
        && let Some(l) = pick(&SERVICES, k)
    {
        return l;
    }
    if let Some(k) = field.strip_prefix("away_")
        && let Some(l) = pick(&REASONS, k)
    {
        return l;
    }
    match (field, en) {
        ("status", false) => "Hasil kunjungan",
        ("status", true) => "Visit outcome",
        ("check_in", false) => "Jam datang",
        ("check_in", true) => "Check-in time",
        ("check_out", false) => "Jam pulang",
        ("check_out", true) => "Check-out time",
        ("notes", false) => "Catatan",
        ("notes", true) => "Notes",
        (other, _) => other,
    }
    .to_string()
}

/// A time as people write it: `07:40`, `7:40`, `07.40` (the Indonesian way), `7.40`, `07,40`.
pub fn parse_clock(raw: &str) -> Option<NaiveTime> {
    let (h, m) = raw.trim().split_once([':', '.', ','])?;
    let ok = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !ok(h, 2) || m.len() != 2 || !ok(m, 2) {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// A typed time (`None` when left blank), or the problem in the reader's words.
fn read_time(
    raw: &str,
    field: &str,
    lang: &str,
    (example_id, example_en): (&str, &str),
) -> Result<Option<NaiveTime>, FieldError> {
    if raw.is_empty() {
        return Ok(None);
    }
    parse_clock(raw).map(Some).ok_or_else(|| {
        let label = field_label(field, lang);
        err(
            field,
            if lang == "en" {
                format!("{label}: write the time as hours and minutes, like {example_en}.")
            } else {
                format!("{label}: tulis jam dan menit, misalnya {example_id}.")
            },
        )
    })
}

/// Turn a submitted form into a log. Times are on the visit's day in the region's zone. Every
/// problem is reported at once, keyed by the form's field name, in the reader's language and
/// naming the label the reader sees.
pub fn parse_form(
    form: &FormFields,
    visit_date: NaiveDate,
    tz: chrono_tz::Tz,
    lang: &str,
) -> Result<LogInput, Vec<FieldError>> {
    let en = lang == "en";
    let mut errors = Vec::new();
    let get = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or("");
    let status = Status::parse(get("status"));
    if status.is_none() {
        errors.push(err(
            "status",
            if en {
                "Choose the visit outcome."
            } else {
                "Pilih hasil kunjungan."
            },
        ));
    }
    let time_in =
        read_time(get("check_in"), "check_in", lang, ("07.40", "07:40")).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
    let mut number = |field: String| -> Option<u32> {
        let raw = get(&field).replace(['.', ' '], "");
        if raw.is_empty() {
            return None;
        }
        match raw.parse::<u32>() {
            Ok(n) if n <= MAX_COUNT => Some(n),
            _ => {
                let label = field_label(&field, lang);
                errors.push(err(
                    &field,
                    if en {
                        format!("{label}: enter a whole number from 0 to 5,000.")
                    } else {
                        format!("{label}: isi bilangan bulat 0 sampai 5.000.")
                    },
                ));
                None
            }
        }
    };
    let counts: BTreeMap<String, u32> = SERVICES
        .iter()
        .filter_map(|(k, _, _)| number(format!("count_{k}")).map(|n| (k.to_string(), n)))
        .collect();
    let turned_away: BTreeMap<String, u32> = REASONS
        .iter()
        .filter_map(|(k, _, _)| number(format!("away_{k}")).map(|n| (k.to_string(), n)))
        .collect();
    let time_out = read_time(get("check_out"), "check_out", lang, ("16.05", "16:05"))
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        });
    if let (Some(i), Some(o)) = (time_in, time_out)
        && o < i
    {
        errors.push(err(
            "check_out",
            if en {
                "Check-out time is before check-in time."
            } else {
                "Jam pulang lebih awal dari jam datang."
            },
        ));
    }
    let notes = get("notes").to_string();
    let n = notes.chars().count();
    if n > MAX_NOTES_CHARS {
        errors.push(err(
            "notes",
            if en {
                format!("Notes: at most 2,000 characters (now {n}).")
            } else {
                format!("Catatan paling banyak 2.000 karakter (sekarang {n}).")
            },
        ));
    }
    let (Some(status), true) = (status, errors.is_empty()) else {
        return Err(errors);
    };
    let fix = |t: Option<NaiveTime>, lat: &str, lon: &str| -> Option<Fix> {
        let at = tz
            .from_local_datetime(&visit_date.and_time(t?))
            .earliest()?
            .fixed_offset();
        let degrees = |k: &str| crate::domain::geo::parse_degrees(get(k)).ok();
        let (lat, lon) = match (degrees(lat), degrees(lon)) {
            (Some(a), Some(o)) if Coordinate::new(a, o).is_ok() => (Some(a), Some(o)),
            // A position the phone gave badly is left out, not held against the reader.
            _ => (None, None),
        };
        Some(Fix { at, lat, lon })
    };
    let input = LogInput {
        status,
        counts,
        turned_away,
        check_in: fix(time_in, "lat_in", "lon_in"),
        check_out: fix(time_out, "lat_out", "lon_out"),
        notes,
    };
    // Everything the form can send was checked above; this is the API's rule set, as a guard.
    input.validate()?;
    Ok(input)
}

/// A stored log as the form's prefilled values.
pub fn form_values(input: &LogInput, tz: chrono_tz::Tz) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    v.insert("status".into(), input.status.as_str().into());
    for (k, n) in &input.counts {
        v.insert(format!("count_{k}"), n.to_string());
    }
    for (k, n) in &input.turned_away {
        v.insert(format!("away_{k}"), n.to_string());
    }
    for (name, suffix, fix) in [
        ("check_in", "in", &input.check_in),
        ("check_out", "out", &input.check_out),
    ] {
        if let Some(f) = fix {
            v.insert(
                name.into(),
                f.at.with_timezone(&tz).format("%H:%M").to_string(),
            );
            if let (Some(lat), Some(lon)) = (f.lat, f.lon) {
                v.insert(format!("lat_{suffix}"), lat.to_string());
                v.insert(format!("lon_{suffix}"), lon.to_string());
            }
        }
    }
    v.insert("notes".into(), input.notes.clone());
    v
}

/// The visit as the form shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FormVisit {
    pub site_name: String,
    pub site_kind: String,
    pub address: String,
    pub date: String,
    pub start: String,
    pub end: String,
    pub team_name: String,
    pub osm_url: String,
}

#[derive(Debug, Clone, Serialize)]
struct KeyLabel {
    key: &'static str,
    label: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct ValueLabel {
    value: &'static str,
    label: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Expected {
    pub label: String,
    pub people: i64,
}

fn templates() -> &'static minijinja::Environment<'static> {
    static ENV: std::sync::LazyLock<minijinja::Environment<'static>> =
        std::sync::LazyLock::new(|| {
            let mut env = minijinja::Environment::new();
            for (name, source) in [
                ("form.html", include_str!("templates/form.html")),
                ("done.html", include_str!("templates/done.html")),
                ("error.html", include_str!("templates/error.html")),
                ("answer.html", include_str!("templates/answer.html")),
                // The stylesheet the three pages share, inlined (no external resources).
                ("style.html", include_str!("templates/style.html")),
            ] {
                env.add_template(name, source)
                    .expect("the form templates compile");
            }
            env
        });
    &ENV
}

fn render(name: &str, ctx: minijinja::Value) -> String {
    templates()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .unwrap_or_else(|e| {
            // A template bug must not take the page down with a bare 500: log it, show a line.
            tracing::error!(error = %e, template = name, "form template failed");
            "<!doctype html><meta charset=utf-8><p>Terjadi kesalahan / something went wrong</p>"
                .to_string()
        })
}

fn lang_of(lang: &str) -> &'static str {
    if lang == "en" { "en" } else { "id" }
}

/// The visit form, filled with `values` (the current log, or what was typed into a rejected
/// form); `logged_at` when a log exists; `errors` per form field, shown beside each field and
/// together at the top.
#[allow(clippy::too_many_arguments)]
pub fn render_form(
    lang: &str,
    action: &str,
    idem: &str,
    visit: &FormVisit,
    expected: &[Expected],
    values: Option<&BTreeMap<String, String>>,
    logged_at: Option<&str>,
    errors: &[FieldError],
) -> String {
    let lang = lang_of(lang);
    let en = lang == "en";
    let services: Vec<KeyLabel> = SERVICES
        .iter()
        .map(|(key, id, e)| KeyLabel {
            key,
            label: if en { e } else { id },
        })
        .collect();
    let reasons: Vec<KeyLabel> = REASONS
        .iter()
        .map(|(key, id, e)| KeyLabel {
            key,
            label: if en { e } else { id },
        })
        .collect();
    let statuses: Vec<ValueLabel> = Status::ALL
        .iter()
        .map(|s| ValueLabel {
            value: s.as_str(),
            label: s.label(lang),
        })
        .collect();
    // The first message per field beside it; all of them, in form order, at the top.
    let order = form_field_names();
    let mut sorted: Vec<&FieldError> = errors.iter().collect();
    sorted.sort_by_key(|e| {
        order
            .iter()
            .position(|f| *f == e.field)
            .unwrap_or(usize::MAX)
    });
    let mut errs: BTreeMap<&str, &str> = BTreeMap::new();
    for e in &sorted {
        errs.entry(e.field.as_str()).or_insert(e.message.as_str());
    }
    let summary: Vec<minijinja::Value> = sorted
        .iter()
        .map(|e| minijinja::context! { field => e.field, message => e.message })
        .collect();
    render(
        "form.html",
        minijinja::context! {
            lang, action, idem, visit, expected, services, reasons, statuses, errs, summary,
            current => values,
            current_logged_at => logged_at,
        },
    )
}

/// The page after a save: what was saved, line by line, so the reader can check it.
#[allow(clippy::too_many_arguments)]
pub fn render_done(
    lang: &str,
    visit: &FormVisit,
    revision: i32,
    input: &LogInput,
    tz: chrono_tz::Tz,
    flags: &[Flag],
    back_url: &str,
) -> String {
    let lang = lang_of(lang);
    let en = lang == "en";
    let flags: Vec<&str> = flags.iter().map(|f| f.label(lang)).collect();
    let mut saved: Vec<(String, String)> = Vec::new();
    let time = |f: &Option<Fix>| {
        f.as_ref().map(|f| {
            let t = f.at.with_timezone(&tz);
            if en {
                t.format("%H:%M").to_string()
            } else {
                t.format("%H.%M").to_string()
            }
        })
    };
    if let Some(t) = time(&input.check_in) {
        saved.push((field_label("check_in", lang), t));
    }
    if let Some(t) = time(&input.check_out) {
        saved.push((field_label("check_out", lang), t));
    }
    for (key, n) in &input.counts {
        saved.push((field_label(&format!("count_{key}"), lang), n.to_string()));
    }
    for (key, n) in &input.turned_away {
        let label = field_label(&format!("away_{key}"), lang);
        let label = if en {
            format!("Turned away: {label}")
        } else {
            format!("Tidak terlayani: {label}")
        };
        saved.push((label, n.to_string()));
    }
    if !input.notes.is_empty() {
        saved.push((field_label("notes", lang), input.notes.clone()));
    }
    render(
        "done.html",
        minijinja::context! {
            lang, visit, revision, back_url, flags, saved,
            status_label => input.status.label(lang),
        },
    )
}

/// An error page; `link` (address, text) gives the reader a way on.
pub fn render_error(lang: &str, title: &str, message: &str, link: Option<(&str, &str)>) -> String {
    let link = link.map(|(href, text)| minijinja::context! { href, text });
    render(
        "error.html",
        minijinja::context! { lang => lang_of(lang), title, message, link },
    )
}

/// The page a place answers its visit notice on (`/n/{token}`); `ctx` carries `site`, `kind`,
/// `visits` (lines), `action`, `min_date`, `max_date`, and `saved`, `previous`, `error`,
/// `choice`, `proposed`, `note` where they apply.
pub fn render_answer(lang: &str, ctx: minijinja::Value) -> String {
    render(
        "answer.html",
        minijinja::context! { lang => lang_of(lang), ..ctx },
    )
}
