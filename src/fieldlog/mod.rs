//! Field visit logs: what a team reports after a visit, its validation, the anomaly flags a
//! reviewer sees, and the small HTML form behind the per-visit link. Pure: no HTTP, no storage.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Coordinate;

#[cfg(test)]
mod tests;

/// Services a visit delivers: (key, Bahasa Indonesia, English). `kk` has no coverage indicator.
pub const SERVICES: [(&str, &str, &str); 5] = [
    ("ktp_el", "Perekaman KTP-el", "KTP-el recorded"),
    ("kia", "KIA terbit", "KIA issued"),
    (
        "akta_lahir",
        "Akta kelahiran terbit",
        "Birth certificates issued",
    ),
    ("ikd", "Aktivasi IKD", "IKD activated"),
    ("kk", "KK diperbarui", "KK updated"),
];

/// Why people were turned away: (key, Bahasa Indonesia, English).
pub const REASONS: [(&str, &str, &str); 5] = [
    ("kit_rusak", "Alat rekam rusak", "Kit failure"),
    ("tanpa_sinyal", "Tidak ada sinyal", "No signal"),
    ("blangko_habis", "Blangko habis", "Out of blank cards"),
    (
        "dokumen_kurang",
        "Dokumen tidak lengkap",
        "Documents missing",
    ),
    ("lainnya", "Lainnya", "Other"),
];

/// Services that count towards a coverage indicator of the same code.
pub const INDICATOR_SERVICES: [&str; 4] = ["ktp_el", "kia", "akta_lahir", "ikd"];

pub const MAX_COUNT: u32 = 5000;
pub const MAX_NOTES_CHARS: usize = 2000;

/// How a visit went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = VisitStatus)]
pub enum Status {
    /// Done as planned.
    Selesai,
    /// Part done: the site stays a candidate for a revisit.
    Sebagian,
    /// Called off.
    Batal,
    /// The team came, the people did not.
    TidakHadir,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Selesai,
        Status::Sebagian,
        Status::Batal,
        Status::TidakHadir,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Selesai => "selesai",
            Status::Sebagian => "sebagian",
            Status::Batal => "batal",
            Status::TidakHadir => "tidak_hadir",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }

    pub fn label(self, lang: &str) -> &'static str {
        match (self, lang == "en") {
            (Status::Selesai, false) => "Selesai",
            (Status::Selesai, true) => "Done",
            (Status::Sebagian, false) => "Sebagian",
            (Status::Sebagian, true) => "Partly done",
            (Status::Batal, false) => "Batal",
            (Status::Batal, true) => "Cancelled",
            (Status::TidakHadir, false) => "Sasaran tidak hadir",
            (Status::TidakHadir, true) => "Nobody came",
        }
    }

    /// Whether the team worked at the site (so zero output is suspicious).
    pub fn worked(self) -> bool {
        matches!(self, Status::Selesai | Status::Sebagian)
    }
}

/// A time and, when the phone gave one, a position (lat and lon together).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    pub at: DateTime<FixedOffset>,
    #[serde(default)]
    #[schema(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    #[serde(default)]
    #[schema(minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
}

impl Fix {
    pub fn position(&self) -> Option<Coordinate> {
        Coordinate::new(self.lat?, self.lon?).ok()
    }
}

/// What a team reports about one visit (the JSON body of `POST /api/v1/visits/{id}/logs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogInput {
    pub status: Status,
    /// Services delivered, per kind.
    #[serde(default)]
    #[schema(schema_with = counts_schema::services)]
    pub counts: BTreeMap<String, u32>,
    /// People turned away, per reason.
    #[serde(default)]
    #[schema(schema_with = counts_schema::reasons)]
    pub turned_away: BTreeMap<String, u32>,
    #[serde(default)]
    pub check_in: Option<Fix>,
    #[serde(default)]
    pub check_out: Option<Fix>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub notes: String,
}

/// The schemas of the count maps: one property per known key, 0..MAX_COUNT each, no others.
mod counts_schema {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

    fn of(keys: &[(&str, &str, &str)]) -> ObjectBuilder {
        keys.iter().fold(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .additional_properties(Some(
                    utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
                )),
            |o, (key, _, en)| {
                o.property(
                    *key,
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0))
                        .maximum(Some(super::MAX_COUNT))
                        .description(Some(*en)),
                )
            },
        )
    }

    pub fn services() -> impl Into<RefOr<Schema>> {
        of(&super::SERVICES)
    }

    pub fn reasons() -> impl Into<RefOr<Schema>> {
        of(&super::REASONS)
    }
}

/// One problem with one field, in the 422 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

impl LogInput {
    /// Every problem at once, so a form can show them together.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        for (key, n) in &self.counts {
            if !SERVICES.iter().any(|s| s.0 == key) {
                errors.push(err(
                    format!("counts.{key}"),
                    "layanan tidak dikenal / unknown service (ktp_el, kia, akta_lahir, ikd, kk)",
                ));
            } else if *n > MAX_COUNT {
                errors.push(err(
                    format!("counts.{key}"),
                    format!("maksimal / at most {MAX_COUNT}"),
                ));
            }
        }
        for (key, n) in &self.turned_away {
            if !REASONS.iter().any(|s| s.0 == key) {
                errors.push(err(
                    format!("turned_away.{key}"),
                    "alasan tidak dikenal / unknown reason (kit_rusak, tanpa_sinyal, blangko_habis, dokumen_kurang, lainnya)",
                ));
            } else if *n > MAX_COUNT {
                errors.push(err(
                    format!("turned_away.{key}"),
                    format!("maksimal / at most {MAX_COUNT}"),
                ));
            }
        }
        for (name, fix) in [("check_in", &self.check_in), ("check_out", &self.check_out)] {
            if let Some(f) = fix {
                match (f.lat, f.lon) {
                    (None, None) => {}
                    (Some(lat), Some(lon)) => {
                        if let Err(e) = Coordinate::new(lat, lon) {
                            errors.push(err(name, e));
                        }
                    }
                    _ => errors.push(err(
                        name,
                        "lat dan lon harus diisi berdua / lat and lon go together",
                    )),
                }
            }
        }
        if let (Some(i), Some(o)) = (&self.check_in, &self.check_out)
            && o.at < i.at
        {
            errors.push(err(
                "check_out",
                "jam selesai sebelum jam mulai / check-out is before check-in",
            ));
        }
        if self.notes.chars().count() > MAX_NOTES_CHARS {
            errors.push(err(
                "notes",
                format!(
                    "maksimal {MAX_NOTES_CHARS} karakter / at most {MAX_NOTES_CHARS} characters"
                ),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Documents delivered per coverage indicator (services without an indicator left out).
    pub fn delivered(&self) -> BTreeMap<String, i64> {
        self.counts
            .iter()
            .filter(|(k, n)| INDICATOR_SERVICES.contains(&k.as_str()) && **n > 0)
            .map(|(k, n)| (k.clone(), i64::from(*n)))
            .collect()
    }

    pub fn total_output(&self) -> u32 {
        self.counts.values().sum()
    }
}

/// Something a reviewer should look at twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Checked in farther from the site than the configured distance.
    FarCheckIn,
    /// More documents than the team's kits can make in the logged time.
    OverCapacity,
    /// Logged long after the visit.
    Late,
    /// Worked at the site, delivered nothing.
    ZeroOutput,
    /// Logged before the visit's day (local date): a report of what has not happened yet.
    Early,
}

impl Flag {
    pub const ALL: [Flag; 5] = [
        Flag::FarCheckIn,
        Flag::OverCapacity,
        Flag::Late,
        Flag::ZeroOutput,
        Flag::Early,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::FarCheckIn => "far_check_in",
            Flag::OverCapacity => "over_capacity",
            Flag::Late => "late",
            Flag::ZeroOutput => "zero_output",
            Flag::Early => "early",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s.trim())
    }

    pub fn label(self, lang: &str) -> &'static str {
        match (self, lang == "en") {
            (Flag::FarCheckIn, false) => "Lokasi check-in jauh dari lokasi sasaran",
            (Flag::FarCheckIn, true) => "Checked in far from the site",
            (Flag::OverCapacity, false) => "Jumlah melebihi kapasitas alat pada waktu yang dicatat",
            (Flag::OverCapacity, true) => {
                "Counts exceed what the kits can record in the logged time"
            }
            (Flag::Late, false) => "Dicatat lebih dari 48 jam setelah kunjungan",
            (Flag::Late, true) => "Logged more than 48 hours after the visit",
            (Flag::ZeroOutput, false) => "Tidak ada dokumen yang dihasilkan",
            (Flag::ZeroOutput, true) => "No documents delivered",
            (Flag::Early, false) => "Dicatat sebelum hari kunjungan",
            (Flag::Early, true) => "Logged before the day of the visit",
        }
    }
}

/// What the flags compare a log with.
#[derive(Debug, Clone)]
pub struct VisitFacts {
    pub site: Option<Coordinate>,
    pub visit_date: NaiveDate,
    pub time_zone: chrono_tz::Tz,
    /// Recording kits of the team.
    pub kits: u32,
    /// Kit-minutes per document (planner.minutes_per_person); 5 for a service not listed.
    pub minutes_per_person: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Copy)]
pub struct FlagRules {
    pub far_check_in_m: f64,
    pub late_hours: i64,
    pub capacity_tolerance: f64,
}

/// The anomaly flags of a log written at `logged_at`.
pub fn flags(
    input: &LogInput,
    facts: &VisitFacts,
    rules: &FlagRules,
    logged_at: DateTime<Utc>,
) -> Vec<Flag> {
    let mut out = Vec::new();
    if let (Some(site), Some(pos)) = (
        facts.site.as_ref(),
        input.check_in.as_ref().and_then(Fix::position),
    ) && site.distance_m(&pos) > rules.far_check_in_m
    {
        out.push(Flag::FarCheckIn);
    }
    if let (Some(i), Some(o)) = (&input.check_in, &input.check_out) {
        let minutes = (o.at - i.at).num_seconds() as f64 / 60.0;
        let needed: f64 = input
            .counts
            .iter()
            .map(|(k, n)| f64::from(*n) * facts.minutes_per_person.get(k).copied().unwrap_or(5.0))
            .sum();
        let capacity = minutes.max(0.0) * f64::from(facts.kits.max(1)) * rules.capacity_tolerance;
        if needed > capacity {
            out.push(Flag::OverCapacity);
        }
    }
    // The visit's day ends at midnight, local time.
    let day_end = facts
        .time_zone
        .from_local_datetime(
            &(facts.visit_date + chrono::Duration::days(1)).and_time(NaiveTime::MIN),
        )
        .earliest()
        .map(|t| t.with_timezone(&Utc));
    if let Some(end) = day_end
        && logged_at > end + chrono::Duration::hours(rules.late_hours)
    {
        out.push(Flag::Late);
    }
    if input.status.worked() && input.total_output() == 0 {
        out.push(Flag::ZeroOutput);
    }
    if logged_at.with_timezone(&facts.time_zone).date_naive() < facts.visit_date {
        out.push(Flag::Early);
    }
    out
}

mod form;
pub use form::*;
