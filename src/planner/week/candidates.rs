//! Choosing the week's candidates among all ranked sites.

use super::*;
use crate::planner::problem;

/// How many sites closed all week (calendar, hours) are kept among the candidates so that the
/// plan can say why the best of them are not visited.
const CLOSED_EXPLAINED: usize = 20;

/// The afternoons' share of the teams' working minutes (after `noon` on the work clock).
fn afternoon_share(days: &[InstanceTeam], noon: u32) -> f64 {
    let (mut all_min, mut after_min) = (0u32, 0u32);
    for d in days.iter().flat_map(|t| &t.days) {
        let (start, end) = (
            problem::parse_hms(&d.start).unwrap_or(0),
            problem::parse_hms(&d.end).unwrap_or(0),
        );
        all_min += end.saturating_sub(start);
        after_min += end.saturating_sub(start.max(noon));
    }
    if all_min > 0 {
        f64::from(after_min) / f64::from(all_min)
    } else {
        0.0
    }
}

/// A desa's PAUD/TK/RA as one round: one trip for all of them, so each is rated at least at the
/// round's value per minute.
fn rate_rounds_together(
    candidates: &[CandidateInput],
    cost: &[Option<(f64, f64)>],
    value: &dyn Fn(&CandidateInput) -> f64,
    rate: &mut [f64],
) {
    let mut rounds: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in candidates.iter().enumerate() {
        if matches!(c.kind, SiteKind::Paud | SiteKind::Tk | SiteKind::Ra) && rate[i] > 0.0 {
            rounds.entry(c.region.as_str()).or_default().push(i);
        }
    }
    for members in rounds.values().filter(|m| m.len() > 1) {
        let total: f64 = members.iter().map(|&i| value(&candidates[i])).sum();
        let service: f64 = members
            .iter()
            .map(|&i| cost[i].map(|c| c.0).unwrap_or(0.0))
            .sum();
        let trip = members
            .iter()
            .filter_map(|&i| cost[i].map(|c| c.1))
            .fold(f64::INFINITY, f64::min);
        let together = total / (service + trip).max(1.0);
        for &i in members {
            rate[i] = rate[i].max(together);
        }
    }
}

/// The `quota` open candidates with the most of `indicator` per minute, best first.
fn best_for(
    indicator: &str,
    candidates: &[CandidateInput],
    cost: &[Option<(f64, f64)>],
    open: &[bool],
    quota: usize,
) -> Vec<usize> {
    let mut own: Vec<(f64, usize)> = candidates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let v = c.value.get(indicator).copied().unwrap_or(0.0);
            let (service, trip) = cost[i]?;
            (v > 0.0 && open[i]).then(|| (v / (service + trip).max(1.0), i))
        })
        .collect();
    own.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(candidates[a.1].site_id.cmp(&candidates[b.1].site_id))
    });
    own.into_iter().take(quota).map(|(_, i)| i).collect()
}

/// The candidates of a week, best first: among the sites open this week, the most priority per
/// minute of service (with the fastest able team) plus the round trip from the nearest base.
/// PAUD, TK and RA of one desa count together, as a morning's round of short KIA stops shares
/// one trip. Sites open in the afternoon get the afternoons' share of the places, since a
/// school that closes at noon cannot use them. With shares, the best sites per minute for each
/// shared indicator are added too. `wanted` are always in, and so are the highest-priority
/// closed sites (to be explained).
pub fn select_candidates(
    candidates: &[CandidateInput],
    teams: &[TeamInput],
    settings: &WeekSettings,
    wanted: &HashSet<i64>,
    week_start: NaiveDate,
) -> Vec<usize> {
    let setup = settings.setup_min;
    let days = team_days(week_start, teams, settings);
    let worked = worked_days(&days);
    let default_hours = parsed_default_hours(settings);
    let clock = settings.work_clock();
    let windows: Vec<Option<Vec<Window>>> = candidates
        .iter()
        .map(|c| open_windows(c, &worked, &default_hours, clock).ok())
        .collect();
    let open: Vec<bool> = windows.iter().map(Option::is_some).collect();
    // Open after midday (past the break on the work clock): most schools close by then, so the
    // afternoons have their own, smaller market.
    let noon = clock.break_start;
    let afternoon: Vec<bool> = windows
        .iter()
        .map(|w| {
            w.as_ref().is_some_and(|w| {
                w.iter()
                    .any(|x| problem::parse_hms(&x.close).is_ok_and(|c| c > noon))
            })
        })
        .collect();
    let afternoon_share = afternoon_share(&days, noon);
    // (minutes of service with the fastest able team, shortest round trip, the share of the
    // site's priority that service earns) per candidate: a walk-in site counts its longest
    // session, not its whole demand.
    let cost: Vec<Option<(f64, f64)>> = candidates
        .iter()
        .map(|c| {
            let people = needed(&c.people);
            capable(teams, &people)
                .into_iter()
                .map(|t| {
                    let busy = busy_minutes(&work_of(&people, t, settings), settings);
                    let trip = 2.0 * f64::from(travel_s(settings, t.base, c.coordinate)) / 60.0;
                    (setup + busy, trip)
                })
                .reduce(|a, b| (a.0.min(b.0), a.1.min(b.1)))
        })
        .collect();
    let session_share: Vec<f64> = candidates
        .iter()
        .zip(&cost)
        .map(
            |(c, cost)| match (settings.session_min.get(c.kind.as_str()), cost) {
                (Some(session), Some((service, _))) if service > session => {
                    ((session - setup) / (service - setup).max(1e-9)).clamp(0.0, 1.0)
                }
                _ => 1.0,
            },
        )
        .collect();
    let cost: Vec<Option<(f64, f64)>> = cost
        .iter()
        .zip(candidates)
        .map(|(cost, c)| {
            cost.map(|(service, trip)| {
                let session = settings.session_min.get(c.kind.as_str()).copied();
                (session.map_or(service, |s| service.min(s)), trip)
            })
        })
        .collect();
    let value_of: Vec<f64> = candidates
        .iter()
        .zip(&session_share)
        .map(|(c, share)| c.value.values().sum::<f64>() * share)
        .collect();
    let index_of: HashMap<i64, usize> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.site_id, i))
        .collect();
    let value = |c: &CandidateInput| value_of[index_of[&c.site_id]];
    let mut rate: Vec<f64> = candidates
        .iter()
        .zip(&cost)
        .zip(&open)
        .map(|((c, cost), open)| match cost {
            Some((service, trip)) if *open => value(c) / (service + trip).max(1.0),
            _ => 0.0,
        })
        .collect();
    rate_rounds_together(candidates, &cost, &value, &mut rate);
    let mut order: Vec<usize> = (0..candidates.len())
        .filter(|&i| rate[i] > 0.0 || wanted.contains(&candidates[i].site_id))
        .collect();
    order.sort_by(|&a, &b| {
        rate[b]
            .total_cmp(&rate[a])
            .then(candidates[a].site_id.cmp(&candidates[b].site_id))
    });
    // First the afternoon's share of the candidates among sites open in the afternoon, then the
    // rest by rate.
    let afternoon_quota = (settings.candidates as f64 * afternoon_share).ceil() as usize;
    let mut chosen: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| afternoon[i])
        .take(afternoon_quota)
        .collect();
    let mut taken: HashSet<usize> = chosen.iter().copied().collect();
    for &i in &order {
        if chosen.len() >= settings.candidates {
            break;
        }
        if taken.insert(i) {
            chosen.push(i);
        }
    }
    // Shares: each shared indicator's own best per minute, in proportion to its share.
    for (indicator, pct) in &settings.shares {
        let quota = (settings.candidates as f64 * pct / 100.0).ceil() as usize;
        for i in best_for(indicator, candidates, &cost, &open, quota) {
            if taken.insert(i) {
                chosen.push(i);
            }
        }
    }
    for i in reserved(candidates, &order, wanted, settings) {
        if taken.insert(i) {
            chosen.push(i);
        }
    }
    let mut closed: Vec<usize> = (0..candidates.len()).filter(|&i| !open[i]).collect();
    closed.sort_by(|&a, &b| {
        value(&candidates[b])
            .total_cmp(&value(&candidates[a]))
            .then(candidates[a].site_id.cmp(&candidates[b].site_id))
    });
    for i in closed.into_iter().take(CLOSED_EXPLAINED) {
        if taken.insert(i) {
            chosen.push(i);
        }
    }
    chosen
}

/// Candidates whatever their rate: the sites asked for, then the best penduduk rentan (a home
/// or a prison with few people per minute would otherwise never be a candidate, whatever its
/// weight).
fn reserved(
    candidates: &[CandidateInput],
    by_rate: &[usize],
    wanted: &HashSet<i64>,
    settings: &WeekSettings,
) -> Vec<usize> {
    let asked = (0..candidates.len()).filter(|&i| wanted.contains(&candidates[i].site_id));
    let vulnerable = by_rate
        .iter()
        .copied()
        .filter(|&i| candidates[i].kind.is_vulnerable())
        .take(settings.vulnerable_candidates);
    asked.chain(vulnerable).collect()
}
