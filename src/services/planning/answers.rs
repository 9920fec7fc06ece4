//! The places' answers to their notices as facts for a week's plan: "Tidak bisa" closes the site
//! on the days it was planned; a proposed day of the week closes the others and pins the site
//! there for a team that works that day (the team that had it, if it can). A proposed day that
//! no team can take, or whose visit does not fit, is said in the plan's notes instead of failing
//! the plan.

use chrono::{Datelike, NaiveDate};

use crate::domain::{SiteKind, WeeklyHours};
use serde_json::json;

use super::*;

/// What the answers of a week mean for its plan.
#[derive(Debug, Default)]
pub(super) struct AnswerFacts {
    /// Site → days it must not be visited, with the reason.
    pub closed: HashMap<i64, Vec<(NaiveDate, String)>>,
    /// Sites to keep as candidates (they proposed a day).
    pub wanted: Vec<i64>,
    /// Pins for proposed days (applied one by one; one that fails becomes a note).
    pub pins: Vec<plans::Pin>,
    /// One line per answer, for the plan's notes.
    pub notes: Vec<serde_json::Value>,
    /// The office's service days staffed by a team (the staffing rule; same handling as
    /// proposals).
    pub staffed: Vec<plans::Pin>,
}

fn works(team: &TeamInput, day: NaiveDate, settings: &WeekSettings) -> bool {
    !settings.holidays.contains(&day)
        && !team
            .hours
            .intervals(day.weekday().num_days_from_monday() as usize)
            .is_empty()
}

pub(super) async fn answer_facts(
    db: &Db,
    kabupaten: &RegionCode,
    week: &str,
    days: &[NaiveDate],
    teams: &[TeamInput],
    settings: &WeekSettings,
) -> Result<AnswerFacts, PlanError> {
    let mut facts = AnswerFacts::default();
    for a in crate::store::notices::latest_answers(db, kabupaten.as_str(), week).await? {
        if a.answer != "tidak_bisa" {
            facts
                .notes
                .push(json!({ "site_id": a.site_id, "answer": a.answer }));
            continue;
        }
        let declined = "tempat kunjungan menjawab tidak bisa / the place declined";
        let mut closed: Vec<(NaiveDate, String)> = a
            .planned_days
            .iter()
            .map(|d| (*d, declined.to_string()))
            .collect();
        let Some(day) = a.proposed_date.filter(|d| days.contains(d)) else {
            let outcome = match a.proposed_date {
                Some(d) => format!(
                    "usul {d}, di luar minggu ini: rencanakan di minggu itu / outside this week"
                ),
                None => {
                    "tidak dikunjungi pada hari yang ditolak / not visited on the declined days"
                        .into()
                }
            };
            facts.notes.push(json!({
                "site_id": a.site_id, "answer": a.answer, "proposed_date": a.proposed_date,
                "outcome": outcome,
            }));
            facts.closed.entry(a.site_id).or_default().extend(closed);
            continue;
        };
        let other = format!("tempat kunjungan mengusulkan {day} / the place proposed {day}");
        closed.retain(|(d, _)| *d != day);
        closed.extend(
            days.iter()
                .filter(|d| **d != day)
                .map(|d| (*d, other.clone())),
        );
        facts.closed.entry(a.site_id).or_default().extend(closed);
        facts.wanted.push(a.site_id);
        // The team that had the visit, if it works that day; else the first team that does.
        let had = plans::load(db, a.plan_id).await?.and_then(|p| {
            p.stops
                .iter()
                .find(|s| s.site_id == a.site_id)
                .map(|s| s.team_id)
        });
        let team = teams
            .iter()
            .filter(|t| works(t, day, settings))
            .min_by_key(|t| (Some(t.id) != had, t.id));
        match team {
            Some(t) => facts.pins.push(plans::Pin {
                id: 0,
                region_code: kabupaten.to_string(),
                week: week.to_string(),
                site_id: a.site_id,
                part: 1,
                team_id: t.id,
                day,
            }),
            None => facts.notes.push(json!({
                "site_id": a.site_id, "answer": a.answer, "proposed_date": day,
                "outcome": format!("tidak ada tim yang bekerja pada {day} / no team works that day"),
            })),
        }
    }
    Ok(facts)
}

/// The staffing rule of the office's service days (kind `kantor`): each is pinned on the first
/// day of the week it is open to the team that works that day with the shortest trip to it
/// (then the lowest id), so that an office day is never left unstaffed for a school visit.
pub(super) fn staff_office_days(
    facts: &mut AnswerFacts,
    candidates: &[CandidateInput],
    days: &[NaiveDate],
    teams: &[TeamInput],
    settings: &WeekSettings,
) {
    let default = settings
        .default_hours
        .get(SiteKind::Kantor.as_str())
        .and_then(|h| WeeklyHours::parse(h).ok());
    for c in candidates.iter().filter(|c| c.kind == SiteKind::Kantor) {
        let Some(hours) = c.hours.clone().or_else(|| default.clone()) else {
            continue;
        };
        let open = days.iter().copied().find(|d| {
            !hours
                .intervals(d.weekday().num_days_from_monday() as usize)
                .is_empty()
                && !c.closed.iter().any(|(x, _)| x == d)
                && !settings.holidays.contains(d)
        });
        let Some(day) = open else { continue };
        let team = teams
            .iter()
            .filter(|t| works(t, day, settings))
            .min_by(|a, b| {
                let trip = |t: &TeamInput| t.base.distance_m(&c.coordinate);
                trip(a).total_cmp(&trip(b)).then(a.id.cmp(&b.id))
            });
        match team {
            Some(t) => facts.staffed.push(plans::Pin {
                id: 0,
                region_code: String::new(),
                week: String::new(),
                site_id: c.site_id,
                part: 1,
                team_id: t.id,
                day,
            }),
            None => facts.notes.push(json!({
                "site_id": c.site_id, "staffing": day,
                "outcome": format!("layanan kantor {day}: tidak ada tim yang bekerja hari itu / no team works that day"),
            })),
        }
    }
}

/// Apply the proposal pins that can be applied; the others become notes. Returns the instance
/// ids of the pinned visits (their conflicts in the search are notes too, not errors).
pub(super) fn apply_answer_pins(
    facts: &mut AnswerFacts,
    visits: &[week::VisitSpec],
    completed_keys: &HashSet<String>,
    instance: &mut planner::Instance,
) -> HashSet<String> {
    let mut soft = HashSet::new();
    for pin in std::mem::take(&mut facts.pins) {
        match apply_pins(std::slice::from_ref(&pin), visits, completed_keys, instance) {
            Ok(()) => {
                if let Some(v) = visits
                    .iter()
                    .rfind(|v| v.site_id == pin.site_id && v.part == 1)
                {
                    soft.insert(v.key.clone());
                }
                facts.pins.push(pin);
            }
            Err(e) => facts.notes.push(json!({
                "site_id": pin.site_id, "answer": "tidak_bisa", "proposed_date": pin.day,
                "outcome": format!("tidak bisa dijadwalkan pada {}: {e}", pin.day),
            })),
        }
    }
    soft
}

/// After the search: where each proposal ended up.
pub(super) fn proposal_outcomes(
    facts: &AnswerFacts,
    stops: &[plans::NewStop],
    team_names: &HashMap<i64, String>,
) -> Vec<serde_json::Value> {
    let mut notes = facts.notes.clone();
    for pin in &facts.pins {
        let placed = stops
            .iter()
            .find(|s| s.site_id == pin.site_id && s.day == pin.day);
        let outcome = match placed {
            Some(s) => format!(
                "dijadwalkan {} ({}) sesuai usulan / planned on the proposed day",
                pin.day,
                team_names.get(&s.team_id).cloned().unwrap_or_default()
            ),
            None => format!(
                "tidak muat pada {} untuk tim mana pun / does not fit that day",
                pin.day
            ),
        };
        notes.push(json!({
            "site_id": pin.site_id, "answer": "tidak_bisa", "proposed_date": pin.day,
            "outcome": outcome,
        }));
    }
    for pin in &facts.staffed {
        let placed = stops
            .iter()
            .find(|s| s.site_id == pin.site_id && s.day == pin.day);
        notes.push(json!({
            "site_id": pin.site_id, "staffing": pin.day,
            "outcome": match placed {
                Some(s) => format!(
                    "layanan kantor {} dijaga {} / the office day is staffed",
                    pin.day,
                    team_names.get(&s.team_id).cloned().unwrap_or_default()
                ),
                None => format!("layanan kantor {} tidak muat / does not fit", pin.day),
            },
        }));
    }
    notes
}
