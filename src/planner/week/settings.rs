//! The planner's `[planner]` settings, per region, and the week's shares of team time.

use super::*;

fn default_max_time_limit_s() -> f64 {
    120.0
}

/// `[planner]` settings; defaults and reasons in `config/default.toml`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeekSettings {
    /// How many sites are candidates (the best by priority per minute of service and travel).
    pub candidates: usize,
    /// Minutes to set up at a site.
    pub setup_min: f64,
    /// Minutes per person on one unit of the indicator's resource.
    pub minutes_per_person: BTreeMap<String, f64>,
    /// The team resource each indicator's work uses (`kit`, `printer`, `phone`). Different
    /// resources work at the same time; people of indicators sharing a resource queue for it.
    pub resources: BTreeMap<String, String>,
    /// How many of a resource a team has when its own record does not say (`kit` always comes
    /// from the team's kits; `phone` defaults to the team's members).
    pub default_resources: BTreeMap<String, u32>,
    /// Most consecutive days one site may take; what still does not fit is reported as "sisa".
    pub max_parts: usize,
    /// Walk-in sites (kind → minutes): one session a week of at most this long, wherever the
    /// residents come to the team; what a session cannot take is reported as "sisa".
    #[serde(default)]
    pub session_min: BTreeMap<String, f64>,
    pub speed_kmh: f64,
    pub road_factor: f64,
    /// National holidays and cuti bersama: no team works.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// Friday ends by this time for Friday prayer (`HH:MM`).
    pub friday_end: String,
    /// The midday break (ishoma): every team-day that spans it stops for `break_min` minutes
    /// from `break_start`; no visit or travel runs through it. `break_min = 0`: no break.
    pub break_start: String,
    pub break_min: u32,
    /// Opening hours per kind of site when a site has none of its own.
    pub default_hours: BTreeMap<String, String>,
    pub time_limit_s: f64,
    /// The most search time one request may have: a longer `time_limit_s` asked for is cut to
    /// it (an operator's bound on how long one plan can hold a core).
    #[serde(default = "default_max_time_limit_s")]
    pub max_time_limit_s: f64,
    pub seed: u64,
    /// The week's share of team time per indicator (percent), unless a region says otherwise.
    #[serde(default)]
    pub shares: BTreeMap<String, f64>,
    /// Penduduk rentan keep this many candidate places of their own (the best of them by
    /// priority per minute), whatever the other sites' rates.
    #[serde(default)]
    pub vulnerable_candidates: usize,
    /// Cards one printer makes in a day (200–250; it overheats): a team-day never promises more
    /// printed cards than its printers make.
    #[serde(default = "default_cards_per_printer_day")]
    pub cards_per_printer_day: u32,
    /// PAUD document collection: a short drop-off, the teachers collect, then the pick-up.
    #[serde(default)]
    pub paud_pairs: PaudPairs,
    /// Per region code (the most specific prefix wins): travel and shares.
    #[serde(default)]
    pub regions: BTreeMap<String, RegionSettings>,
}

/// A two-step KIA task at a PAUD: a drop-off visit (forms and the list of what to collect, a word
/// to the parents on why KIA matters), the teachers collect KK, akta and photos, then the pick-up
/// visit `collect_days` working days later processes the KIA. Planned as one pair by one team.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PaudPairs {
    /// Kinds planned as pairs (empty: none).
    pub kinds: Vec<String>,
    /// Only places with at least this many children expected for KIA (a small group is served
    /// in one visit, with the documents asked for in the notice).
    pub min_children: f64,
    /// Working days of the team between drop-off and pick-up.
    pub collect_days: u32,
    /// Minutes on site for the drop-off.
    pub dropoff_min: f64,
    /// Work per child at the pick-up relative to a visit where parents bring the papers (the
    /// files are gathered and checked by the teachers: no queue of parents).
    pub pickup_pace: f64,
}

impl Default for PaudPairs {
    fn default() -> Self {
        Self {
            kinds: Vec::new(),
            min_children: 0.0,
            collect_days: 2,
            dropoff_min: 15.0,
            pickup_pace: 1.0,
        }
    }
}

fn default_cards_per_printer_day() -> u32 {
    200
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegionSettings {
    pub speed_kmh: Option<f64>,
    pub road_factor: Option<f64>,
    pub shares: Option<BTreeMap<String, f64>>,
}

impl WeekSettings {
    /// These settings with the travel and shares of `region`'s most specific entries.
    pub fn for_region(&self, region: &crate::domain::RegionCode) -> WeekSettings {
        let mut out = self.clone();
        // Coarsest first, so that a kabupaten's entry overrides its province's.
        for code in region.lineage().into_iter().rev() {
            if let Some(t) = self.regions.get(code.as_str()) {
                out.speed_kmh = t.speed_kmh.unwrap_or(out.speed_kmh);
                out.road_factor = t.road_factor.unwrap_or(out.road_factor);
                if let Some(s) = &t.shares {
                    out.shares = s.clone();
                }
            }
        }
        out
    }

    pub fn validate(&self) -> Result<(), String> {
        let positive = |name: &str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(format!("planner.{name}: harus > 0, bukan {v}"))
            }
        };
        positive("speed_kmh", self.speed_kmh)?;
        positive("road_factor", self.road_factor)?;
        positive("time_limit_s", self.time_limit_s)?;
        if self.setup_min < 0.0 || self.max_parts == 0 || self.candidates == 0 {
            return Err(
                "planner.setup_min ≥ 0, planner.max_parts ≥ 1 dan planner.candidates ≥ 1".into(),
            );
        }
        for (code, t) in &self.regions {
            crate::domain::RegionCode::parse(code)
                .map_err(|e| format!("planner.regions.{code}: {e}"))?;
            for v in [t.speed_kmh, t.road_factor].into_iter().flatten() {
                positive(&format!("regions.{code}"), v)?;
            }
            if let Some(s) = &t.shares {
                validate_shares(s).map_err(|e| format!("planner.regions.{code}.shares: {e}"))?;
            }
        }
        validate_shares(&self.shares).map_err(|e| format!("planner.shares: {e}"))?;
        for (k, v) in &self.minutes_per_person {
            positive(&format!("minutes_per_person.{k}"), *v)?;
        }
        for (indicator, resource) in &self.resources {
            if !RESOURCES.contains(&resource.as_str()) {
                return Err(format!(
                    "planner.resources.{indicator}: {resource:?} bukan salah satu dari {}",
                    RESOURCES.join(", ")
                ));
            }
        }
        for (resource, n) in &self.default_resources {
            if !RESOURCES.contains(&resource.as_str()) || *n == 0 {
                return Err(format!(
                    "planner.default_resources.{resource}: sumber daya dikenal ({}) dengan jumlah ≥ 1",
                    RESOURCES.join(", ")
                ));
            }
        }
        crate::planner::problem::parse_hms(&self.friday_end)
            .map_err(|e| format!("planner.friday_end: {e}"))?;
        crate::planner::problem::parse_hms(&self.break_start)
            .map_err(|e| format!("planner.break_start: {e}"))?;
        if self.break_min >= 24 * 60 {
            return Err("planner.break_min: harus kurang dari sehari".into());
        }
        for (kind, m) in &self.session_min {
            SiteKind::parse(kind).map_err(|e| format!("planner.session_min.{kind}: {e}"))?;
            if !(m.is_finite() && *m > self.setup_min) {
                return Err(format!(
                    "planner.session_min.{kind}: harus lebih dari setup_min"
                ));
            }
        }
        for (kind, hours) in &self.default_hours {
            SiteKind::parse(kind).map_err(|e| format!("planner.default_hours.{kind}: {e}"))?;
            WeeklyHours::parse(hours).map_err(|e| format!("planner.default_hours.{kind}: {e}"))?;
        }
        Ok(())
    }

    /// The break as a clock mapping.
    pub fn work_clock(&self) -> WorkClock {
        WorkClock {
            break_start: crate::planner::problem::parse_hms(&self.break_start).unwrap_or(12 * 3600),
            break_len: self.break_min * 60,
        }
    }
}

/// Resources a team has; each indicator's work uses one of them.
pub const RESOURCES: &[&str] = &["kit", "printer", "phone"];

/// Shares are percentages of team time per known indicator, summing to at most 100.
pub fn validate_shares(shares: &BTreeMap<String, f64>) -> Result<(), String> {
    for (indicator, v) in shares {
        crate::domain::coverage::Indicator::parse(indicator)?;
        if !(0.0..=100.0).contains(v) {
            return Err(format!("{indicator}: persen harus 0..100, bukan {v}"));
        }
    }
    let total: f64 = shares.values().sum();
    if total > 100.0 + 1e-9 {
        return Err(format!("jumlah bagian {total} melebihi 100"));
    }
    Ok(())
}

/// Parse `kia=40,ktp_el=20` (the CLI's `--shares`).
pub fn parse_shares(s: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?}: tulis indikator=persen, contoh kia=40"))?;
        let v: f64 = v
            .trim()
            .parse()
            .map_err(|_| format!("{part:?}: persen bukan angka"))?;
        out.insert(k.trim().to_string(), v);
    }
    validate_shares(&out)?;
    Ok(out)
}
