//! What a re-plan carries over from the plan it starts from: completed visits kept as they were,
//! pins applied to the new week, what is left of sites not finished, and what changed.

use super::*;

/// Completed visits go back in exactly as they were: their own time (on the work clock) as the
/// only window, pinned to their team-day.
pub(super) async fn keep_completed(
    db: &Db,
    b: &Base,
    completed: &[&Stop],
    instance: &mut planner::Instance,
    visits: &mut Vec<week::VisitSpec>,
    clock: week::WorkClock,
) -> Result<(), PlanError> {
    let team_day = |team_id: i64, day: chrono::NaiveDate| TeamDayRef {
        team: team_id.to_string(),
        day: day.to_string(),
        seq: None,
    };
    for team in &mut instance.teams {
        for d in &mut team.days {
            d.frozen = d
                .day
                .parse::<chrono::NaiveDate>()
                .is_ok_and(|day| day < b.frozen_before);
        }
    }
    let working: HashSet<(String, String)> = instance
        .teams
        .iter()
        .flat_map(|t| t.days.iter().map(|d| (t.id.clone(), d.day.clone())))
        .collect();
    let rows =
        plans::sites_by_id(db, &completed.iter().map(|s| s.site_id).collect::<Vec<_>>()).await?;
    for s in completed {
        let key = visit_key(s.site_id, s.part, s.parts);
        let at = team_day(s.team_id, s.day);
        if !working.contains(&(at.team.clone(), at.day.clone())) {
            continue; // a day that is no longer worked (a new holiday): nothing to keep.
        }
        let Some(site) = rows.get(&s.site_id) else {
            continue;
        };
        let work = |t: &str| clock.to_work(crate::planner::parse_hms(t).unwrap_or(0));
        let (open, close) = (work(&s.start), work(&s.end));
        let service_min = f64::from(close.saturating_sub(open)) / 60.0;
        instance.sites.push(InstanceSite {
            id: key.clone(),
            lat: site.lat,
            lon: site.lon,
            service_min,
            priority: s.priority,
            windows: Some(vec![crate::planner::Window {
                day: at.day.clone(),
                open: crate::planner::format_hms(open),
                close: crate::planner::format_hms(close),
            }]),
            teams: None,
            pin: Some(at.clone()),
            previous: Some(at),
            service_by_team: None,
            group: None,
            choice: None,
        });
        let people = s.people.clone();
        visits.push(week::VisitSpec {
            key,
            site_id: s.site_id,
            part: s.part as usize,
            parts: s.parts as usize,
            site_people: people.clone(),
            people,
            limit: None,
            value: BTreeMap::new(),
            work: BTreeMap::new(),
            service: BTreeMap::from([(s.team_id, service_min)]),
            priority: s.priority,
            task: s.task.clone(),
        });
    }
    let previous: HashMap<String, TeamDayRef> = b
        .stops
        .iter()
        .map(|s| {
            (
                visit_key(s.site_id, s.part, s.parts),
                TeamDayRef {
                    seq: Some(s.seq as u32),
                    ..team_day(s.team_id, s.day)
                },
            )
        })
        .collect();
    // A walk-in site's session: the one closest in length to the session it had.
    let mut sessions: HashMap<i64, (usize, f64)> = HashMap::new();
    for (i, site) in instance.sites.iter().enumerate() {
        let Some(id) = site.choice.as_ref().and_then(|c| c.parse::<i64>().ok()) else {
            continue;
        };
        let Some(stop) = b.stops.iter().find(|s| s.site_id == id) else {
            continue;
        };
        let had = |t: &str| f64::from(clock.to_work(crate::planner::parse_hms(t).unwrap_or(0)));
        let length = (had(&stop.end) - had(&stop.start)) / 60.0;
        let offered = site
            .service_by_team
            .as_ref()
            .and_then(|m| m.get(&stop.team_id.to_string()).copied())
            .unwrap_or(site.service_min);
        let gap = (offered - length).abs();
        if sessions.get(&id).is_none_or(|(_, g)| gap < *g) {
            sessions.insert(id, (i, gap));
        }
    }
    for (id, (i, _)) in sessions {
        instance.sites[i].previous = previous.get(&id.to_string()).cloned();
    }
    for site in &mut instance.sites {
        if site.previous.is_none() && site.choice.is_none() {
            site.previous = previous.get(&site.id).cloned();
        }
    }
    Ok(())
}

/// The coordinator's pins onto the instance's visits; pins that name no visit or a day the
/// team does not work are a conflict.
pub(super) fn apply_pins(
    pins: &[crate::store::plans::Pin],
    visits: &[week::VisitSpec],
    completed_keys: &HashSet<String>,
    instance: &mut planner::Instance,
) -> Result<(), PlanError> {
    let mut pin_errors = Vec::new();
    for pin in pins {
        let at = TeamDayRef {
            team: pin.team_id.to_string(),
            day: pin.day.to_string(),
            seq: None,
        };
        // For a walk-in site, the longest of its sessions (they come in increasing length).
        let Some(v) = visits
            .iter()
            .rfind(|v| v.site_id == pin.site_id && v.part == pin.part as usize)
        else {
            let done = completed_keys.iter().any(|k| {
                k == &pin.site_id.to_string()
                    || k.starts_with(&format!("{}#{}", pin.site_id, pin.part))
            });
            if !done {
                pin_errors.push(format!("situs {} bagian {}: tidak ada kunjungan yang bisa dipin (tutup atau tidak ada tim yang mampu) / no visit to pin", pin.site_id, pin.part));
            }
            continue;
        };
        if !instance
            .teams
            .iter()
            .any(|t| t.id == at.team && t.days.iter().any(|d| d.day == at.day && !d.frozen))
        {
            pin_errors.push(format!(
                "situs {}: tim {} tidak bekerja pada {} / team does not work that day",
                pin.site_id, pin.team_id, pin.day
            ));
            continue;
        }
        if let Some(site) = instance.sites.iter_mut().find(|s| s.id == v.key) {
            site.pin = Some(at);
        }
    }
    if pin_errors.is_empty() {
        Ok(())
    } else {
        Err(PlanError::Conflict(pin_errors.join("; ")))
    }
}

/// "Sisa": what a site with planned visits still needs — parts left unplanned (a re-plan after
/// some were done), the people beyond one walk-in session, or beyond the most days one site may
/// take — with the reason.
pub(super) fn remainders(
    stops: &[plans::NewStop],
    visits: &[week::VisitSpec],
    unplanned_parts: &HashMap<i64, serde_json::Value>,
) -> Vec<serde_json::Value> {
    let mut planned: BTreeMap<i64, (BTreeMap<String, f64>, HashSet<i32>)> = BTreeMap::new();
    for stop in stops {
        let entry = planned.entry(stop.site_id).or_default();
        for (k, n) in &stop.people {
            *entry.0.entry(k.clone()).or_default() += n;
        }
        entry.1.insert(stop.part);
    }
    let mut out = Vec::new();
    for (site_id, (people, parts)) in planned {
        let Some(spec) = visits.iter().find(|v| v.site_id == site_id) else {
            continue;
        };
        let rest: BTreeMap<String, f64> = spec
            .site_people
            .iter()
            .map(|(k, n)| {
                (
                    k.clone(),
                    ((n - people.get(k).copied().unwrap_or(0.0)) * 10.0).round() / 10.0,
                )
            })
            .filter(|(_, n)| *n >= 0.5)
            .collect();
        if rest.is_empty() {
            continue;
        }
        let missing: Vec<usize> = visits
            .iter()
            .filter(|v| v.site_id == site_id && v.parts > 1 && !parts.contains(&(v.part as i32)))
            .map(|v| v.part)
            .collect();
        let why = if !missing.is_empty() {
            unplanned_parts
                .get(&site_id)
                .cloned()
                .unwrap_or(serde_json::json!({"reason": "crowded_out", "displaced_priority": null}))
        } else {
            match &spec.limit {
                Some(week::Limit::Session { max_min }) => {
                    serde_json::json!({"reason": "session", "session_min": max_min})
                }
                Some(week::Limit::MaxParts { needed, max }) => {
                    serde_json::json!({"reason": "max_parts", "parts_needed": needed, "max_parts": max})
                }
                // Kept from a re-planned version: what its visit did not take stays a candidate.
                None => serde_json::json!({"reason": "kept"}),
            }
        };
        out.push(serde_json::json!({
            "site_id": site_id,
            "people": rest,
            "parts": missing,
            "why": why,
        }));
    }
    out
}

/// Moved, added and dropped visits between a base plan and the new stops (completed ones aside).
pub(super) fn count_changes(base: &[Stop], completed: &[&Stop], new: &[plans::NewStop]) -> Changes {
    let done: HashSet<i64> = completed.iter().map(|s| s.id).collect();
    let before: HashMap<(i64, i32), (i64, chrono::NaiveDate)> = base
        .iter()
        .filter(|s| !done.contains(&s.id))
        .map(|s| ((s.site_id, s.part), (s.team_id, s.day)))
        .collect();
    let kept: HashSet<(i64, i32)> = completed.iter().map(|s| (s.site_id, s.part)).collect();
    let after: HashMap<(i64, i32), (i64, chrono::NaiveDate)> = new
        .iter()
        .filter(|s| !kept.contains(&(s.site_id, s.part)))
        .map(|s| ((s.site_id, s.part), (s.team_id, s.day)))
        .collect();
    let mut c = Changes {
        kept_completed: completed.len() as i32,
        ..Changes::default()
    };
    for (k, at) in &before {
        match after.get(k) {
            Some(now) if now != at => c.moved += 1,
            Some(_) => {}
            None => c.dropped += 1,
        }
    }
    c.added = after.keys().filter(|k| !before.contains_key(k)).count() as i32;
    c
}
