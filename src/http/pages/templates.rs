//! The console's templates (minijinja, HTML auto-escaped), compiled once. In a template,
//! `t("Bahasa", "English")` picks the reader's language, `num(x, digits)` writes a number the
//! reader's way (`1.234,5` or `1,234.5`), `kind(code)` names a kind of site, `ind(code)` an
//! indicator, `day(date)` a weekday with its date and `dur(seconds)` a duration;
//! the filter `hm` writes a time of day as hours and minutes.

use minijinja::{Environment, State, Value};

use super::ApiError;

macro_rules! sources {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

fn english(state: &State) -> bool {
    state
        .lookup("lang")
        .is_some_and(|l| l.as_str() == Some("en"))
}

fn t(state: &State, id: String, en: String) -> String {
    if english(state) { en } else { id }
}

/// `1234.56` → `1.234,6` (Indonesian) or `1,234.6` (English).
pub(super) fn number(x: f64, digits: usize, en: bool) -> String {
    let s = format!("{:.*}", digits, x.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(if en { ',' } else { '.' });
        }
        grouped.push(c);
    }
    let sign = if x < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "−"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{}{frac}", if en { '.' } else { ',' })
    }
}

fn num(state: &State, x: Value, digits: Option<usize>) -> String {
    match f64::try_from(x.clone()) {
        Ok(v) => number(v, digits.unwrap_or(0), english(state)),
        Err(_) => "–".into(),
    }
}

fn lang(state: &State) -> crate::email::Lang {
    if english(state) {
        crate::email::Lang::En
    } else {
        crate::email::Lang::Id
    }
}

fn kind(state: &State, code: String) -> String {
    crate::email::kind_label(lang(state), &code)
}

fn ind(state: &State, code: String) -> String {
    crate::email::words::indicator_label(lang(state), &code).to_string()
}

fn day(state: &State, date: String) -> String {
    match date.parse::<chrono::NaiveDate>() {
        Ok(d) => crate::email::long_date(lang(state), d),
        Err(_) => date,
    }
}

/// Seconds as "1 jam 5 menit" / "1 h 5 min".
fn dur(state: &State, secs: i64) -> String {
    crate::email::duration(lang(state), secs)
}

fn environment() -> &'static Environment<'static> {
    static ENV: std::sync::LazyLock<Environment<'static>> = std::sync::LazyLock::new(|| {
        let mut env = Environment::new();
        for (name, source) in sources!(
            "layout.html",
            "error.html",
            "error_in_layout.html",
            "login.html",
            "choose.html",
            "region.html",
            "priorities.html",
            "week.html",
            "plan.html",
            "emails.html",
            "review.html",
            "log.html",
            "report.html",
            "audit.html",
            "my_week.html",
        ) {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env.add_function("t", t);
        env.add_function("num", num);
        env.add_function("kind", kind);
        env.add_function("ind", ind);
        env.add_function("day", day);
        env.add_function("dur", dur);
        // `07:33:28` → `07:33`: the stored times keep seconds, people read minutes.
        env.add_filter("hm", |t: String| t.get(..5).unwrap_or(&t).to_string());
        env
    });
    &ENV
}

pub(super) fn render(name: &str, ctx: Value) -> Result<String, ApiError> {
    environment()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| ApiError::Internal(format!("template {name}: {e:#}")))
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_are_written_the_readers_way() {
        assert_eq!(number(1234.56, 1, false), "1.234,6");
        assert_eq!(number(1234.56, 1, true), "1,234.6");
        assert_eq!(number(1234567.0, 0, false), "1.234.567");
        assert_eq!(number(-0.04, 1, false), "0,0");
        assert_eq!(number(-12.0, 0, true), "−12");
        assert_eq!(number(999.0, 0, true), "999");
    }
}
