//! The planner's own feasibility checker, written from the rules of the exchange format and not
//! from the search's data structures, and the upper bound every plan reports.

use std::collections::{HashMap, HashSet};

use super::problem::{Instance, Plan, Problem, parse_hms};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Evaluation {
    pub prize: f64,
    pub travel_s: u64,
    pub visits: usize,
    pub feasible: bool,
    pub errors: Vec<String>,
}

/// Re-check a plan against the instance: team-days exist and are used once, each site at most
/// once, earliest-start schedule inside the site's windows of that day and the team's hours.
pub fn evaluate(inst: &Instance, problem: &Problem, plan: &Plan) -> Evaluation {
    let mut errors = Vec::new();
    let team_index: HashMap<&str, usize> = inst
        .teams
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let site_index: HashMap<&str, usize> = inst
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut used_days = HashSet::new();
    let mut seen_sites = HashSet::new();
    // Where each site is served, to check pins and frozen days after the routes.
    let mut served_on: HashMap<usize, (&str, &str)> = HashMap::new();
    let (mut prize, mut travel, mut visits) = (0.0, 0u64, 0usize);
    for route in &plan.routes {
        let Some(&ti) = team_index.get(route.team.as_str()) else {
            errors.push(format!("unknown team {}", route.team));
            continue;
        };
        let Some(day) = inst.teams[ti].days.iter().find(|d| d.day == route.day) else {
            errors.push(format!(
                "team {} does not work on {}",
                route.team, route.day
            ));
            continue;
        };
        if !used_days.insert((ti, route.day.clone())) {
            errors.push(format!(
                "team {} has two routes on {}",
                route.team, route.day
            ));
        }
        if route.stops.is_empty() {
            continue;
        }
        let (Ok(start), Ok(end)) = (parse_hms(&day.start), parse_hms(&day.end)) else {
            errors.push(format!("bad hours for {} on {}", route.team, route.day));
            continue;
        };
        let (mut node, mut clock) = (ti, start);
        for stop in &route.stops {
            let Some(&si) = site_index.get(stop.site.as_str()) else {
                errors.push(format!("unknown site {}", stop.site));
                continue;
            };
            if !seen_sites.insert(si) {
                errors.push(format!("site {} served twice", stop.site));
            }
            served_on.insert(si, (route.team.as_str(), route.day.as_str()));
            if day.frozen
                && inst.sites[si]
                    .pin
                    .as_ref()
                    .is_none_or(|p| p.team != route.team || p.day != route.day)
            {
                errors.push(format!(
                    "site {} added to frozen day {} of team {}",
                    stop.site, route.day, route.team
                ));
            }
            let site = &inst.sites[si];
            if let Some(allowed) = &site.teams
                && !allowed.contains(&route.team)
            {
                errors.push(format!(
                    "site {} may not be served by team {}",
                    stop.site, route.team
                ));
            }
            let next = problem.site_node(si);
            let leg = problem.t(node, next);
            travel += u64::from(leg);
            let arrive = clock + leg;
            let minutes = site
                .service_by_team
                .as_ref()
                .and_then(|m| m.get(&route.team))
                .copied()
                .unwrap_or(site.service_min);
            let service = (minutes * 60.0).round() as u32;
            let windows: Vec<(u32, u32)> = match &site.windows {
                None => vec![(start, end)],
                Some(w) if w.is_empty() => vec![(start, end)],
                Some(w) => w
                    .iter()
                    .filter(|w| w.day == route.day)
                    .filter_map(|w| Some((parse_hms(&w.open).ok()?, parse_hms(&w.close).ok()?)))
                    .collect(),
            };
            let mut sorted = windows;
            sorted.sort_unstable();
            let begin = sorted
                .iter()
                .find(|(o, c)| arrive.max(*o) + service <= *c)
                .map(|(o, _)| arrive.max(*o));
            match begin {
                Some(b) => clock = b + service,
                None => {
                    errors.push(format!(
                        "site {} cannot be served after arriving at {arrive} s on {}",
                        stop.site, route.day
                    ));
                    clock = arrive + service;
                }
            }
            prize += site.priority;
            visits += 1;
            node = next;
        }
        let back = problem.t(node, ti);
        travel += u64::from(back);
        if clock + back > end {
            errors.push(format!(
                "team {} returns at {} s after the end of {}",
                route.team,
                clock + back,
                route.day
            ));
        }
    }
    check_groups(inst, &served_on, &mut errors);
    check_choices_and_pins(inst, &served_on, &mut errors);
    Evaluation {
        prize,
        travel_s: travel,
        visits,
        feasible: errors.is_empty(),
        errors,
    }
}

/// Alternatives of one visit: at most one served; a pinned site is served on its team-day.
fn check_choices_and_pins(
    inst: &Instance,
    served_on: &HashMap<usize, (&str, &str)>,
    errors: &mut Vec<String>,
) {
    let mut chosen: HashMap<&str, &str> = HashMap::new();
    for (si, site) in inst.sites.iter().enumerate() {
        if let Some(c) = &site.choice
            && served_on.contains_key(&si)
            && let Some(other) = chosen.insert(c.as_str(), site.id.as_str())
        {
            errors.push(format!(
                "{} and {} are alternatives of one visit: both served",
                other, site.id
            ));
        }
    }
    for (si, site) in inst.sites.iter().enumerate() {
        if let Some(pin) = &site.pin
            && served_on.get(&si) != Some(&(pin.team.as_str(), pin.day.as_str()))
        {
            errors.push(format!(
                "site {} is pinned to team {} on {} but is not served there",
                site.id, pin.team, pin.day
            ));
        }
    }
}

/// Multi-day visits: a group's parts are served all or none, by one team, on that team's
/// consecutive working days (its days in date order) in ascending part order.
fn check_groups(
    inst: &Instance,
    served_on: &HashMap<usize, (&str, &str)>,
    errors: &mut Vec<String>,
) {
    let mut groups: std::collections::BTreeMap<&str, Vec<(u32, usize)>> = Default::default();
    for (si, site) in inst.sites.iter().enumerate() {
        if let Some(g) = &site.group {
            groups.entry(g.id.as_str()).or_default().push((g.part, si));
        }
    }
    for (id, mut parts) in groups {
        if parts.len() < 2 {
            continue;
        }
        parts.sort_unstable();
        let at: Vec<Option<(&str, &str)>> = parts
            .iter()
            .map(|(_, si)| served_on.get(si).copied())
            .collect();
        if at.iter().all(Option::is_none) {
            continue;
        }
        if at.iter().any(Option::is_none) {
            errors.push(format!("group {id}: only some of its parts are served"));
            continue;
        }
        let at: Vec<(&str, &str)> = at.into_iter().flatten().collect();
        let team = at[0].0;
        if at.iter().any(|(t, _)| *t != team) {
            errors.push(format!(
                "group {id}: its parts are served by different teams"
            ));
            continue;
        }
        let Some(t) = inst.teams.iter().find(|t| t.id == team) else {
            continue;
        };
        let gap = parts
            .first()
            .and_then(|(_, si)| inst.sites[*si].group.as_ref())
            .map_or(1, |g| g.gap.max(1) as usize);
        let mut days: Vec<&str> = t.days.iter().map(|d| d.day.as_str()).collect();
        days.sort_unstable();
        let index: Vec<Option<usize>> = at
            .iter()
            .map(|(_, d)| days.iter().position(|x| x == d))
            .collect();
        if index
            .windows(2)
            .any(|w| !matches!((w[0], w[1]), (Some(a), Some(b)) if b == a + gap))
        {
            let apart = if gap == 1 {
                "on consecutive working days".to_string()
            } else {
                format!("{gap} working days apart")
            };
            errors.push(format!(
                "group {id}: its parts are not {apart} of team {team} in order"
            ));
        }
    }
}

/// Upper bound on the prize any plan can serve: a fractional knapsack over the team-days'
/// minutes in which each eligible site weighs its service plus its cheapest way in (the nearest
/// other site or base it could come from). Valid because every served site uses at least that
/// much of its route's time.
pub fn upper_bound(p: &Problem) -> f64 {
    let capacity: f64 = p.routes.iter().map(|r| f64::from(r.end - r.start)).sum();
    let n = p.n_sites();
    let mut items: Vec<(f64, f64)> = (0..n)
        .filter(|&s| !p.eligible[s].is_empty() && p.prize[s] > 0)
        .map(|s| {
            let node = p.site_node(s);
            let from_bases = p.eligible[s]
                .iter()
                .map(|&r| p.t(p.routes[r].base, node))
                .min()
                .unwrap_or(0);
            let from_sites = (0..n)
                .filter(|&o| o != s)
                .map(|o| p.t(p.site_node(o), node))
                .min()
                .unwrap_or(u32::MAX);
            let weight = f64::from(p.min_service[s] + from_bases.min(from_sites));
            (p.prize[s] as f64 / 1000.0, weight)
        })
        .collect();
    items.sort_by(|a, b| (b.0 / b.1.max(1e-9)).total_cmp(&(a.0 / a.1.max(1e-9))));
    let (mut left, mut bound) = (capacity, 0.0);
    for (prize, weight) in items {
        if weight <= left {
            left -= weight;
            bound += prize;
        } else {
            bound += prize * left / weight;
            break;
        }
    }
    bound
}
