//! The ISO week a plan is for. One spelling only, `YYYY-Www` (`2026-W51`): the label is a key of
//! plans, pins, logs and weekly runs, so `2026-W051`, `+2026-W51` or `2026-W1` — the same week
//! typed differently — are refused rather than stored as separate weeks.

use chrono::{Datelike, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Week {
    year: i32,
    week: u32,
}

impl Week {
    /// Strictly `YYYY-Www`: four digits, `-W`, two digits, a week the year has.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("minggu harus berformat YYYY-Www (contoh 2026-W48), bukan {s:?}");
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 8 || !digits(0..4) || &b[4..6] != b"-W" || !digits(6..8) {
            return Err(bad());
        }
        let year: i32 = s[0..4].parse().map_err(|_| bad())?;
        let week: u32 = s[6..8].parse().map_err(|_| bad())?;
        NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon).ok_or_else(bad)?;
        Ok(Self { year, week })
    }

    /// The week containing `day`.
    pub fn containing(day: NaiveDate) -> Self {
        let w = day.iso_week();
        Self {
            year: w.year(),
            week: w.week(),
        }
    }

    /// The week after the one containing `today` (today as the region's clock reads it).
    pub fn after(today: NaiveDate) -> Self {
        Self::containing(today + chrono::Duration::days(7))
    }

    pub fn monday(self) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.year, self.week, chrono::Weekday::Mon)
            .expect("checked when the week was made")
    }
}

impl std::fmt::Display for Week {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

impl std::str::FromStr for Week {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_per_week() {
        let w = Week::parse("2026-W51").unwrap();
        assert_eq!(w.to_string(), "2026-W51");
        assert_eq!(w.monday(), NaiveDate::from_ymd_opt(2026, 12, 14).unwrap());
        for other in [
            "2026-W051",
            "+2026-W51",
            "2026-W1",
            " 2026-W51",
            "2026-w51",
            "2026W51",
            "2026-W54",
            "2026-W00",
            "",
        ] {
            assert!(Week::parse(other).is_err(), "{other:?} accepted");
        }
        assert!(Week::parse("2026-W53").is_ok(), "2026 has 53 ISO weeks");
        assert!(Week::parse("2027-W53").is_err());
    }

    #[test]
    fn the_week_after_a_day() {
        let sunday = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        assert_eq!(Week::after(sunday).to_string(), "2026-W50");
        let new_year = NaiveDate::from_ymd_opt(2026, 12, 28).unwrap();
        assert_eq!(Week::after(new_year).to_string(), "2027-W01");
    }
}
