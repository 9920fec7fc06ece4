//! Building the week's instance from teams and chosen candidates.

use super::*;
use crate::planner::problem;

/// Build the week's instance. Deterministic: teams and candidates keep the order given.
pub fn build_week(
    week_start: NaiveDate,
    teams: &[TeamInput],
    candidates: &[CandidateInput],
    settings: &WeekSettings,
) -> Week {
    let clock = settings.work_clock();
    let team_days = team_days(week_start, teams, settings);
    let worked = worked_days(&team_days);
    let default_hours = parsed_default_hours(settings);
    let setup = settings.setup_min;

    let mut sites = Vec::new();
    let mut visits = Vec::new();
    let mut excluded = Vec::new();
    for c in candidates {
        let people = needed(&c.people);
        let able = capable(teams, &people);
        if able.is_empty() {
            let missing = people
                .keys()
                .find(|ind| {
                    capability_for(ind)
                        .is_some_and(|cap| !teams.iter().any(|t| t.capabilities.contains(&cap)))
                })
                .or_else(|| people.keys().next())
                .cloned()
                .unwrap_or_default();
            excluded.push((
                c.site_id,
                Excluded::NoCapableTeam {
                    capability: missing,
                },
            ));
            continue;
        }
        let windows = match open_windows(c, &worked, &default_hours, clock) {
            Ok(w) => w,
            Err(why) => {
                excluded.push((c.site_id, why));
                continue;
            }
        };
        // Per team: work and the longest time it can spend there in one day (seconds).
        let per_team: Vec<(&TeamInput, BTreeMap<String, f64>, f64, f64)> = able
            .iter()
            .map(|t| {
                let work = work_of(&people, t, settings);
                let busy = busy_minutes(&work, settings);
                let base_team = team_days.iter().find(|x| x.id == t.id.to_string());
                let to = f64::from(travel_s(settings, t.base, c.coordinate));
                let usable = base_team
                    .map(|bt| {
                        bt.days
                            .iter()
                            .flat_map(|d| {
                                let start = problem::parse_hms(&d.start).unwrap_or(0);
                                let end = problem::parse_hms(&d.end).unwrap_or(0);
                                windows
                                    .iter()
                                    .filter(move |w| w.day == d.day)
                                    .map(move |w| {
                                        let open = problem::parse_hms(&w.open).unwrap_or(0);
                                        let close = problem::parse_hms(&w.close).unwrap_or(0);
                                        let from = f64::from(open).max(f64::from(start) + to);
                                        let until = f64::from(close).min(f64::from(end) - to);
                                        (until - from) / 60.0
                                    })
                            })
                            .fold(0.0, f64::max)
                    })
                    .unwrap_or(0.0);
                (*t, work, busy, usable)
            })
            .collect();
        let allowed: Option<Vec<String>> =
            (able.len() < teams.len()).then(|| able.iter().map(|t| t.id.to_string()).collect());
        for v in variants(c, &per_team, settings) {
            let (work, service) = minutes_of(&per_team, &v, setup);
            let value: BTreeMap<String, f64> = c
                .value
                .iter()
                .filter(|(k, _)| people.contains_key(*k))
                .map(|(k, x)| (k.clone(), x * v.share))
                .collect();
            let priority = value.values().sum();
            let slowest = service.values().copied().fold(0.0, f64::max);
            sites.push(InstanceSite {
                id: v.key.clone(),
                lat: c.coordinate.lat(),
                lon: c.coordinate.lon(),
                service_min: slowest,
                priority: round2(priority),
                windows: Some(windows.clone()),
                teams: allowed.clone(),
                pin: None,
                previous: None,
                service_by_team: Some(service.iter().map(|(t, m)| (t.to_string(), *m)).collect()),
                group: (v.parts > 1).then(|| GroupRef {
                    id: c.site_id.to_string(),
                    part: v.part as u32,
                    gap: v.gap,
                }),
                choice: v.choice.then(|| c.site_id.to_string()),
            });
            visits.push(VisitSpec {
                key: v.key,
                site_id: c.site_id,
                part: v.part,
                parts: v.parts,
                people: people
                    .iter()
                    .map(|(k, x)| (k.clone(), round1(x * v.share)))
                    .filter(|(_, x)| *x > 0.0)
                    .collect(),
                site_people: people.clone(),
                limit: v.limit.clone(),
                value,
                work,
                service,
                priority,
                task: v.task.to_string(),
            });
        }
    }
    Week {
        instance: Instance {
            name: format!("week-{week_start}"),
            speed_kmh: settings.speed_kmh,
            road_factor: settings.road_factor,
            teams: team_days,
            sites,
        },
        visits,
        excluded,
        clock,
    }
}

/// Per team, a variant's work per indicator and its minutes on site: whole minutes, rounded up
/// (the field needs the time, not a fraction of it); a drop-off takes its fixed minutes.
type PerTeam<'a> = [(&'a TeamInput, BTreeMap<String, f64>, f64, f64)];
type Minutes = (BTreeMap<i64, BTreeMap<String, f64>>, BTreeMap<i64, f64>);

fn minutes_of(per_team: &PerTeam<'_>, v: &Variant, setup: f64) -> Minutes {
    let factor = v.share * v.pace;
    let work = per_team
        .iter()
        .map(|(t, w, _, _)| {
            (
                t.id,
                w.iter().map(|(k, x)| (k.clone(), x * factor)).collect(),
            )
        })
        .collect();
    let service = per_team
        .iter()
        .map(|(t, _, busy, _)| {
            let minutes = (setup + busy * factor).ceil();
            (t.id, v.fixed_min.unwrap_or(minutes))
        })
        .collect();
    (work, service)
}

/// One visit a site is offered as: a part of a multi-day visit, one of a walk-in site's
/// session lengths, or the whole site.
struct Variant {
    key: String,
    part: usize,
    parts: usize,
    /// The share of the site's people it takes.
    share: f64,
    /// One of several session lengths (alternatives: at most one is served).
    choice: bool,
    limit: Option<Limit>,
    /// Working days to the next part (1: consecutive).
    gap: u32,
    /// Minutes on site whatever the people (a drop-off).
    fixed_min: Option<f64>,
    /// Work per person relative to an ordinary visit (a pick-up of prepared files is faster).
    pace: f64,
    task: &'static str,
}

/// The shortest session a walk-in site is offered in, and the step between session lengths.
const SESSION_FIRST_MIN: f64 = 60.0;
const SESSION_STEP_MIN: f64 = 30.0;

/// The visits a site is offered as. Parts: as few as the best team needs with its own longest
/// day, never more than `max_parts`. A walk-in site: sessions of 60, 120, … minutes up to
/// `session_min` (or until the whole demand fits), of which the planner takes at most one.
fn variants(
    c: &CandidateInput,
    per_team: &[(&TeamInput, BTreeMap<String, f64>, f64, f64)],
    settings: &WeekSettings,
) -> Vec<Variant> {
    let setup = settings.setup_min;
    if let Some(session) = settings.session_min.get(c.kind.as_str()) {
        let busy = per_team
            .iter()
            .map(|(_, _, busy, _)| *busy)
            .fold(f64::INFINITY, f64::min)
            .max(1e-9);
        let mut out = Vec::new();
        let mut length = SESSION_FIRST_MIN;
        loop {
            let length_now = length.min(*session);
            let share = ((length_now - setup) / busy).min(1.0);
            if share > 0.0 {
                // The whole demand fits: the session is as long as it needs to be.
                let minutes = if share >= 1.0 {
                    (setup + busy).ceil()
                } else {
                    length_now
                };
                out.push(Variant {
                    key: format!("{}@{minutes}", c.site_id),
                    part: 1,
                    parts: 1,
                    share,
                    choice: true,
                    limit: Some(Limit::Session { max_min: *session }),
                    gap: 1,
                    fixed_min: None,
                    pace: 1.0,
                    task: "",
                });
            }
            if share >= 1.0 || length_now >= *session {
                break;
            }
            length += SESSION_STEP_MIN;
        }
        return out;
    }
    // A minute of margin: service times are rounded up to whole minutes.
    let best = per_team
        .iter()
        .map(|(_, _, busy, usable)| (busy, usable.floor() - setup - 1.0))
        .filter(|(_, room)| *room > 0.0)
        .map(|(busy, room)| busy / room)
        .min_by(|a, b| a.total_cmp(b));
    let load = best.unwrap_or(0.0);
    let needed = (load.ceil() as usize).max(1);
    let pairs = &settings.paud_pairs;
    let children = c.people.get("kia").copied().unwrap_or(0.0);
    if needed == 1
        && pairs.collect_days > 0
        && pairs.kinds.iter().any(|k| k == c.kind.as_str())
        && children >= pairs.min_children
        && children > 0.0
    {
        let part = |part: usize, share: f64, fixed_min: Option<f64>, pace, task| Variant {
            key: format!("{}#{part}", c.site_id),
            part,
            parts: 2,
            share,
            choice: false,
            limit: None,
            gap: pairs.collect_days,
            fixed_min,
            pace,
            task,
        };
        return vec![
            part(1, 0.0, Some(pairs.dropoff_min), 1.0, "antar"),
            part(2, 1.0, None, pairs.pickup_pace, "ambil"),
        ];
    }
    let parts = needed.min(settings.max_parts);
    // The share of the site's people the planned parts take.
    let covered = if needed > parts {
        (parts as f64 / load).min(1.0)
    } else {
        1.0
    };
    (1..=parts)
        .map(|part| Variant {
            key: if parts == 1 {
                c.site_id.to_string()
            } else {
                format!("{}#{part}", c.site_id)
            },
            part,
            parts,
            share: covered / parts as f64,
            choice: false,
            limit: (needed > parts).then_some(Limit::MaxParts {
                needed,
                max: settings.max_parts,
            }),
            gap: 1,
            fixed_min: None,
            pace: 1.0,
            task: "",
        })
        .collect()
}
