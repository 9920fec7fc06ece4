//! Weekly hours, written the way coordinators write them:
//! `mon-thu 07:00-12:00; fri 07:00-10:30; sat 07:00-12:00`.
//! Used both for a site's opening hours and a team's working hours (weekends allowed).

use std::fmt;

pub const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Minutes since midnight, `[start, end)`.
pub type Interval = (u16, u16);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeeklyHours {
    /// Index 0 = Monday (ISO weekday order).
    days: [Vec<Interval>; 7],
}

impl WeeklyHours {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut days: [Vec<Interval>; 7] = Default::default();
        for clause in s.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            let (day_part, time_part) = clause
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("jam tidak sah {clause:?} (contoh: mon-thu 07:00-12:00)"))?;
            let day_range = parse_day_range(day_part)?;
            for span in time_part.split(',').map(str::trim) {
                let interval = parse_interval(span)?;
                for d in day_range.clone() {
                    days[d].push(interval);
                }
            }
        }
        for (d, intervals) in days.iter_mut().enumerate() {
            intervals.sort();
            if intervals.windows(2).any(|w| w[1].0 < w[0].1) {
                return Err(format!("jam {} tumpang tindih", DAY_NAMES[d]));
            }
        }
        Ok(Self { days })
    }

    pub fn intervals(&self, weekday_from_monday: usize) -> &[Interval] {
        &self.days[weekday_from_monday]
    }

    pub fn is_empty(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }

    /// Total minutes in the week.
    pub fn weekly_minutes(&self) -> u32 {
        self.days
            .iter()
            .flatten()
            .map(|(a, b)| u32::from(b - a))
            .sum()
    }
}

fn parse_day(s: &str) -> Result<usize, String> {
    DAY_NAMES
        .iter()
        .position(|d| d.eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| format!("hari tidak dikenal {s:?} (pakai mon tue wed thu fri sat sun)"))
}

fn parse_day_range(s: &str) -> Result<std::ops::RangeInclusive<usize>, String> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse_day(a)?, parse_day(b)?);
            if a > b {
                return Err(format!("rentang hari terbalik {s:?}"));
            }
            Ok(a..=b)
        }
        None => {
            let d = parse_day(s)?;
            Ok(d..=d)
        }
    }
}

fn parse_time(s: &str) -> Result<u16, String> {
    let bad = || format!("jam tidak sah {s:?} (format HH:MM)");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn parse_interval(s: &str) -> Result<Interval, String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("rentang jam tidak sah {s:?} (contoh: 07:00-12:00)"))?;
    let (a, b) = (parse_time(a)?, parse_time(b)?);
    if a >= b {
        return Err(format!("jam selesai harus setelah jam mulai: {s:?}"));
    }
    Ok((a, b))
}

impl fmt::Display for WeeklyHours {
    /// Canonical form: consecutive days with the same intervals are grouped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut clauses = Vec::new();
        let mut d = 0;
        while d < 7 {
            if self.days[d].is_empty() {
                d += 1;
                continue;
            }
            let mut end = d;
            while end + 1 < 7 && self.days[end + 1] == self.days[d] {
                end += 1;
            }
            let days = if end == d {
                DAY_NAMES[d].to_string()
            } else {
                format!("{}-{}", DAY_NAMES[d], DAY_NAMES[end])
            };
            let times: Vec<String> = self.days[d]
                .iter()
                .map(|(a, b)| format!("{:02}:{:02}-{:02}:{:02}", a / 60, a % 60, b / 60, b % 60))
                .collect();
            clauses.push(format!("{days} {}", times.join(",")));
            d = end + 1;
        }
        f.write_str(&clauses.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_school_hours_with_a_short_friday() {
        let h =
            WeeklyHours::parse("mon-thu 07:00-12:00; fri 07:00-10:30; sat 07:00-12:00").unwrap();
        assert_eq!(h.intervals(0), &[(420, 720)]);
        assert_eq!(h.intervals(4), &[(420, 630)]);
        assert!(h.intervals(6).is_empty());
        assert_eq!(h.weekly_minutes(), 4 * 300 + 210 + 300);
    }

    #[test]
    fn canonical_form_round_trips() {
        let src = "mon 07:00-10:00,13:00-15:00; tue-thu 07:30-15:30; sun 06:00-10:00";
        let h = WeeklyHours::parse(src).unwrap();
        assert_eq!(h.to_string(), src);
        assert_eq!(WeeklyHours::parse(&h.to_string()).unwrap(), h);
    }

    #[test]
    fn bad_hours_are_rejected_with_a_reason() {
        for bad in [
            "mon 07:00",
            "xyz 07:00-08:00",
            "mon 25:00-26:00",
            "mon 09:00-08:00",
            "fri-mon 07:00-08:00",
            "mon 07:00-09:00,08:00-10:00",
        ] {
            assert!(WeeklyHours::parse(bad).is_err(), "{bad:?}");
        }
    }
}
