//! The exchange format and its preprocessing into integer arrays.

// The exchange format (`shared/bench/instance-format.md`) lives in `instance.rs`; every path
// that names it through `problem::` keeps working.
pub use super::instance::*;
use super::sets::{choices_of, groups_of};

#[derive(Debug, thiserror::Error)]
pub enum ProblemError {
    #[error("{0}")]
    Invalid(String),
}

/// One team-day.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub team: usize,
    pub day: String,
    /// Node index of the team's base.
    pub base: usize,
    pub start: u32,
    pub end: u32,
}

/// The instance as integer arrays. Nodes: the teams' bases (in team order), then the sites.
#[derive(Debug, Clone)]
pub struct Problem {
    pub name: String,
    pub team_ids: Vec<String>,
    pub site_ids: Vec<String>,
    /// Service seconds per (site, team), row-major by site.
    service: Vec<u32>,
    /// Per site, the shortest service of any team (for bounds and densities).
    pub min_service: Vec<u32>,
    /// Prize in thousandths of a priority point.
    pub prize: Vec<i64>,
    pub routes: Vec<RouteSpec>,
    n_nodes: usize,
    n_teams: usize,
    matrix: Vec<u32>,
    /// Per (site, route): index into `windows` (0 = not eligible).
    window_index: Vec<u32>,
    /// Start-time windows `[lo, hi]` already clipped to what a route can reach and return from.
    windows: Vec<Vec<(u32, u32)>>,
    /// Per site, the routes it is eligible for.
    pub eligible: Vec<Vec<usize>>,
    /// Per site, the route it is pinned to.
    pub pinned: Vec<Option<usize>>,
    /// Per site, its route in the plan being re-planned (all `None` for a fresh plan).
    pub previous: Vec<Option<usize>>,
    /// Per site, its position in that previous route.
    pub previous_seq: Vec<u32>,
    /// Whether any site has a previous route: then changes are counted.
    pub replanning: bool,
    /// Per site, the index of its group in `groups` (multi-day visits).
    pub group_of: Vec<Option<u32>>,
    /// Per group, its sites in part order.
    pub groups: Vec<Vec<usize>>,
    /// Per group, the team's working days from one part to the next (1: consecutive).
    pub group_gap: Vec<u32>,
    /// Per site, the index of its choice in `choices`: at most one site of a choice is served.
    pub choice_of: Vec<Option<u32>>,
    pub choices: Vec<Vec<usize>>,
    /// Per route, the same team's next and previous working day (the team's days in date order).
    pub next_route: Vec<Option<usize>>,
    pub prev_route: Vec<Option<usize>>,
    /// `0..n_sites`, so that a single site can be lent out as a one-element unit.
    identity: Vec<usize>,
}

/// Travel seconds between points, as a full matrix. Haversine × road factor ÷ speed is the one
/// jemput ships; a road-network engine (OSRM, Valhalla) can implement this trait later.
pub trait TravelTimes {
    /// Row-major `n × n` seconds for `points` given as (lat, lon).
    fn matrix(&self, points: &[(f64, f64)]) -> Vec<u32>;
}

/// Straight-line distance stretched by a road factor, at a constant speed: the exchange format's
/// rule, to the second.
#[derive(Debug, Clone, Copy)]
pub struct Haversine {
    pub road_factor: f64,
    pub speed_kmh: f64,
}

impl TravelTimes for Haversine {
    fn matrix(&self, points: &[(f64, f64)]) -> Vec<u32> {
        let n = points.len();
        let mut matrix = vec![0u32; n * n];
        for i in 0..n {
            for j in i + 1..n {
                let km = haversine_km(points[i].0, points[i].1, points[j].0, points[j].1);
                let t = round_half_even(km * self.road_factor / self.speed_kmh * 3600.0);
                matrix[i * n + j] = t;
                matrix[j * n + i] = t;
            }
        }
        matrix
    }
}

/// `HH:MM` or `HH:MM:SS` → seconds after midnight.
pub fn parse_hms(s: &str) -> Result<u32, String> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(format!("jam tidak sah {s:?}"));
    }
    let mut total = 0u32;
    for (i, p) in parts.iter().enumerate() {
        let v: u32 = p.parse().map_err(|_| format!("jam tidak sah {s:?}"))?;
        total += v * [3600, 60, 1][i];
    }
    Ok(total)
}

pub fn format_hms(sec: u32) -> String {
    let (h, m, s) = (sec / 3600, (sec % 3600) / 60, sec % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// Great-circle km, computed exactly as `shared/bench/evaluate.py` does so both agree to the second.
pub fn haversine_km(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    let (lat1, lon1, lat2, lon2) = (
        lat_a.to_radians(),
        lon_a.to_radians(),
        lat_b.to_radians(),
        lon_b.to_radians(),
    );
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

/// Each site's priority in thousandths, the solver's integer prize.
fn prizes_of(inst: &Instance) -> Vec<i64> {
    inst.sites
        .iter()
        .map(|s| (s.priority * 1000.0).round() as i64)
        .collect()
}

/// Python's `round()` (half to even) on a non-negative float.
fn round_half_even(x: f64) -> u32 {
    let r = x.round();
    let v = if x.fract() == 0.5 && (r as u64) % 2 == 1 {
        r - 1.0
    } else {
        r
    };
    v as u32
}

/// Every team-day of the instance as a route, and whether it is frozen (a day already worked).
fn routes_of(inst: &Instance) -> Result<(Vec<RouteSpec>, Vec<bool>), ProblemError> {
    let bad = |m: String| ProblemError::Invalid(m);
    let mut routes = Vec::new();
    let mut frozen = Vec::new();
    for (ti, team) in inst.teams.iter().enumerate() {
        for d in &team.days {
            let start = parse_hms(&d.start).map_err(bad)?;
            let end = parse_hms(&d.end).map_err(bad)?;
            if end <= start {
                return Err(bad(format!(
                    "tim {}: hari {} berakhir sebelum mulai",
                    team.id, d.day
                )));
            }
            if routes
                .iter()
                .any(|r: &RouteSpec| r.team == ti && r.day == d.day)
            {
                return Err(bad(format!(
                    "tim {}: hari {} muncul dua kali",
                    team.id, d.day
                )));
            }
            routes.push(RouteSpec {
                team: ti,
                day: d.day.clone(),
                base: ti,
                start,
                end,
            });
            frozen.push(d.frozen);
        }
    }
    Ok((routes, frozen))
}

/// Service seconds per (site, team) in site-major order, and each site's shortest; after
/// checking that ids are unique and durations and priorities are non-negative.
fn service_of(inst: &Instance) -> Result<(Vec<u32>, Vec<u32>), ProblemError> {
    let bad = |m: String| ProblemError::Invalid(m);
    let n_teams = inst.teams.len();
    let mut seen = std::collections::HashSet::new();
    for s in &inst.sites {
        if !seen.insert(s.id.as_str()) {
            return Err(bad(format!("situs {} muncul dua kali", s.id)));
        }
        let non_negative = |x: f64| x >= 0.0 && x.is_finite();
        if !non_negative(s.service_min) || !non_negative(s.priority) {
            return Err(bad(format!(
                "situs {}: service_min dan priority harus ≥ 0",
                s.id
            )));
        }
    }
    let mut service = Vec::with_capacity(inst.sites.len() * n_teams);
    for s in &inst.sites {
        if let Some(by_team) = &s.service_by_team {
            for (team, min) in by_team {
                if !(min.is_finite() && *min >= 0.0) {
                    return Err(bad(format!("situs {}: service_by_team harus ≥ 0", s.id)));
                }
                if !inst.teams.iter().any(|t| &t.id == team) {
                    return Err(bad(format!(
                        "situs {}: service_by_team menyebut tim {team} yang tidak ada",
                        s.id
                    )));
                }
            }
        }
        for t in &inst.teams {
            let minutes = s
                .service_by_team
                .as_ref()
                .and_then(|m| m.get(&t.id))
                .copied()
                .unwrap_or(s.service_min);
            service.push((minutes * 60.0).round() as u32);
        }
    }
    let min_service: Vec<u32> = (0..inst.sites.len())
        .map(|i| {
            service[i * n_teams..(i + 1) * n_teams]
                .iter()
                .copied()
                .min()
                .unwrap_or(0)
        })
        .collect();
    Ok((service, min_service))
}

/// Per route, the same team's next and previous working day.
fn neighbour_days(
    routes: &[RouteSpec],
    n_teams: usize,
) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
    // Each team's working days in date order: a multi-day visit's parts go on neighbours.
    let mut next_route = vec![None; routes.len()];
    let mut prev_route = vec![None; routes.len()];
    for team in 0..n_teams {
        let mut days: Vec<usize> = (0..routes.len())
            .filter(|&r| routes[r].team == team)
            .collect();
        days.sort_by(|&a, &b| routes[a].day.cmp(&routes[b].day));
        for w in days.windows(2) {
            next_route[w[0]] = Some(w[1]);
            prev_route[w[1]] = Some(w[0]);
        }
    }
    (next_route, prev_route)
}

impl Problem {
    /// Travel by the instance's own rule (haversine × road factor ÷ speed).
    pub fn from_instance(inst: &Instance) -> Result<Self, ProblemError> {
        let positive = |x: f64| x > 0.0 && x.is_finite();
        if !positive(inst.speed_kmh) || !positive(inst.road_factor) {
            return Err(ProblemError::Invalid(
                "speed_kmh dan road_factor harus > 0".into(),
            ));
        }
        Self::with_travel(
            inst,
            &Haversine {
                road_factor: inst.road_factor,
                speed_kmh: inst.speed_kmh,
            },
        )
    }

    pub fn with_travel(inst: &Instance, travel: &dyn TravelTimes) -> Result<Self, ProblemError> {
        let bad = |m: String| ProblemError::Invalid(m);
        let n_teams = inst.teams.len();
        let mut coords: Vec<(f64, f64)> = inst
            .teams
            .iter()
            .map(|t| (t.base.lat, t.base.lon))
            .collect();
        coords.extend(inst.sites.iter().map(|s| (s.lat, s.lon)));
        for (lat, lon) in &coords {
            crate::domain::Coordinate::new(*lat, *lon).map_err(bad)?;
        }
        let n_nodes = coords.len();
        let matrix = travel.matrix(&coords);
        if matrix.len() != n_nodes * n_nodes {
            return Err(bad(format!(
                "travel matrix has {} entries, not {}",
                matrix.len(),
                n_nodes * n_nodes
            )));
        }
        let (routes, frozen) = routes_of(inst)?;
        let (service, min_service) = service_of(inst)?;
        let (group_of, groups, group_gap) = groups_of(inst).map_err(bad)?;
        let (choice_of, choices) = choices_of(inst);
        if let Some(i) =
            (0..inst.sites.len()).find(|&i| group_of[i].is_some() && choice_of[i].is_some())
        {
            return Err(bad(format!(
                "situs {}: bagian grup tidak bisa menjadi pilihan",
                inst.sites[i].id
            )));
        }
        let prize = prizes_of(inst);
        let n_sites = inst.sites.len();
        let n_routes = routes.len();
        let route_of = |r: &Option<TeamDayRef>,
                        what: &str,
                        site: &str|
         -> Result<Option<usize>, ProblemError> {
            let Some(r) = r else { return Ok(None) };
            routes
                .iter()
                .position(|spec| inst.teams[spec.team].id == r.team && spec.day == r.day)
                .map(Some)
                .ok_or_else(|| {
                    bad(format!(
                        "situs {site}: {what} ke tim {} hari {} yang tidak bekerja",
                        r.team, r.day
                    ))
                })
        };
        let mut pinned = Vec::with_capacity(n_sites);
        let mut previous = Vec::with_capacity(n_sites);
        for s in &inst.sites {
            pinned.push(route_of(&s.pin, "pin", &s.id)?);
            previous.push(route_of(&s.previous, "previous", &s.id).unwrap_or(None));
        }
        let mut window_index = vec![0u32; n_sites * n_routes];
        let mut windows: Vec<Vec<(u32, u32)>> = vec![Vec::new()];
        let mut eligible = vec![Vec::new(); n_sites];
        for (i, site) in inst.sites.iter().enumerate() {
            let node = n_teams + i;
            for (r, route) in routes.iter().enumerate() {
                // A pinned visit goes to its team-day only; a frozen day takes only its pins.
                if pinned[i].is_some_and(|p| p != r) || (frozen[r] && pinned[i] != Some(r)) {
                    continue;
                }
                if let Some(allowed) = &site.teams
                    && !allowed.contains(&inst.teams[route.team].id)
                {
                    continue;
                }
                let to = matrix[route.base * n_nodes + node];
                let back = matrix[node * n_nodes + route.base];
                let service_here = service[i * n_teams + route.team];
                let lo_bound = route.start + to;
                let Some(hi_bound) = route.end.checked_sub(service_here + back) else {
                    continue;
                };
                let mut w: Vec<(u32, u32)> = match &site.windows {
                    None => vec![(route.start, route.end.saturating_sub(service_here))],
                    Some(list) if list.is_empty() => {
                        vec![(route.start, route.end.saturating_sub(service_here))]
                    }
                    Some(list) => {
                        let mut out = Vec::new();
                        for win in list.iter().filter(|w| w.day == route.day) {
                            let open = parse_hms(&win.open).map_err(bad)?;
                            let close = parse_hms(&win.close).map_err(bad)?;
                            if let Some(latest) = close.checked_sub(service_here) {
                                out.push((open, latest));
                            }
                        }
                        out
                    }
                };
                w = w
                    .into_iter()
                    .map(|(a, b)| (a.max(lo_bound), b.min(hi_bound)))
                    .filter(|(a, b)| a <= b)
                    .collect();
                w.sort_unstable();
                let mut merged: Vec<(u32, u32)> = Vec::with_capacity(w.len());
                for (a, b) in w {
                    match merged.last_mut() {
                        Some(last) if a <= last.1 => last.1 = last.1.max(b),
                        _ => merged.push((a, b)),
                    }
                }
                if !merged.is_empty() {
                    window_index[i * n_routes + r] = windows.len() as u32;
                    windows.push(merged);
                    eligible[i].push(r);
                }
            }
        }
        let (next_route, prev_route) = neighbour_days(&routes, n_teams);
        Ok(Problem {
            name: inst.name.clone(),
            team_ids: inst.teams.iter().map(|t| t.id.clone()).collect(),
            site_ids: inst.sites.iter().map(|s| s.id.clone()).collect(),
            service,
            min_service,
            prize,
            routes,
            n_nodes,
            n_teams,
            matrix,
            window_index,
            windows,
            eligible,
            replanning: previous.iter().any(Option::is_some),
            previous_seq: inst
                .sites
                .iter()
                .map(|s| s.previous.as_ref().and_then(|p| p.seq).unwrap_or(u32::MAX))
                .collect(),
            pinned,
            previous,
            group_of,
            groups,
            group_gap,
            choice_of,
            choices,
            next_route,
            prev_route,
            identity: (0..n_sites).collect(),
        })
    }

    /// The same problem with the prizes of `inst`, which must be the instance this problem was
    /// built from with only its priorities changed: re-weighing a week costs a copy, not another
    /// travel matrix.
    pub fn with_prizes_of(&self, inst: &Instance) -> Problem {
        debug_assert_eq!(inst.sites.len(), self.prize.len());
        Problem {
            prize: prizes_of(inst),
            ..self.clone()
        }
    }

    /// Service seconds of `site` when `route`'s team serves it.
    #[inline]
    pub fn service(&self, site: usize, route: usize) -> u32 {
        self.service[site * self.n_teams + self.routes[route].team]
    }

    /// The sites that are planned or left out together with `site`: its group's parts, or itself.
    pub fn unit(&self, site: usize) -> &[usize] {
        match self.group_of[site] {
            Some(g) => &self.groups[g as usize],
            None => std::slice::from_ref(&self.identity[site]),
        }
    }

    /// `route` moved `steps` working days along its team's days (negative: earlier).
    pub fn route_after(&self, route: usize, steps: isize) -> Option<usize> {
        let mut r = route;
        for _ in 0..steps.unsigned_abs() {
            r = if steps > 0 {
                self.next_route[r]?
            } else {
                self.prev_route[r]?
            };
        }
        Some(r)
    }

    /// Whether serving `site` earns anything: its own prize, or its group's (a PAUD pair's
    /// drop-off earns nothing itself, its pick-up everything).
    pub fn earns(&self, site: usize) -> bool {
        self.unit(site).iter().any(|&x| self.prize[x] > 0)
    }

    /// The route of part `i` of group `g` whose first part is on `first`: `i` gaps along the
    /// team's working days.
    pub fn part_route(&self, g: usize, first: usize, i: isize) -> Option<usize> {
        self.route_after(first, i * self.group_gap[g] as isize)
    }

    pub fn n_sites(&self) -> usize {
        self.site_ids.len()
    }

    pub fn site_node(&self, site: usize) -> usize {
        self.n_teams + site
    }

    /// Travel seconds between two nodes.
    #[inline]
    pub fn t(&self, a: usize, b: usize) -> u32 {
        self.matrix[a * self.n_nodes + b]
    }

    /// Travel seconds from `site` to every site, in site order.
    pub fn site_row(&self, site: usize) -> &[u32] {
        let from = self.site_node(site) * self.n_nodes;
        &self.matrix[from + self.n_teams..from + self.n_nodes]
    }

    /// Start-time windows of `site` on `route`; empty when the pair is not eligible.
    #[inline]
    pub fn windows(&self, site: usize, route: usize) -> &[(u32, u32)] {
        &self.windows[self.window_index[site * self.routes.len() + route] as usize]
    }
}

/// The earliest start at or after `t` inside `w`.
#[inline]
pub fn first_fit(t: u32, w: &[(u32, u32)]) -> Option<u32> {
    w.iter().find(|(_, hi)| t <= *hi).map(|(lo, _)| t.max(*lo))
}

/// The latest start at or before `t` inside `w`.
#[inline]
pub fn last_fit(t: u32, w: &[(u32, u32)]) -> Option<u32> {
    w.iter()
        .rev()
        .find(|(lo, _)| *lo <= t)
        .map(|(_, hi)| t.min(*hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn travel_matches_the_reference_evaluator() {
        // evaluate.py gives 41.600970011278925 km and round(km * 1.3 / 30 * 3600) = 6490 s.
        let km = haversine_km(-8.1647, 113.7180, -8.2547, 113.3511);
        assert!((km - 41.600970011278925).abs() < 1e-9, "{km}");
        assert_eq!(round_half_even(km * 1.3 / 30.0 * 3600.0), 6490);
        assert_eq!(round_half_even(2.5), 2);
        assert_eq!(round_half_even(3.5), 4);
        assert_eq!(round_half_even(1612.4), 1612);
    }

    #[test]
    fn windows_fit_forwards_and_backwards() {
        let w = [(100, 200), (300, 400)];
        assert_eq!(first_fit(50, &w), Some(100));
        assert_eq!(first_fit(250, &w), Some(300));
        assert_eq!(first_fit(401, &w), None);
        assert_eq!(last_fit(250, &w), Some(200));
        assert_eq!(last_fit(99, &w), None);
    }
}
