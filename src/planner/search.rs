//! Construction and search. Deterministic for a seed: the work budget is counted in insertion
//! tests ("ticks"), and the wall clock is only a safety stop.

use std::time::{Duration, Instant};

use super::check::upper_bound;
use super::problem::{Plan, PlanRoute, PlanStop, Problem, first_fit, format_hms, last_fit};

/// Ticks per second of `--time-limit` on the reference 2-core machine (measured with `jemput
/// solve`: about 120 M/s on jb200-s1 and 75 M/s on a 3,000-site week, once each iteration is
/// charged two ticks per site for copying and scanning the state). The clock stops a run that is
/// slower than that at 95 % of its limit, and the outcome says so.
pub const TICKS_PER_SECOND: u64 = 70_000_000;

#[derive(Debug, Clone)]
pub struct Options {
    pub time_limit: Duration,
    pub seed: u64,
    /// Work budget per worker; default `time_limit × TICKS_PER_SECOND`.
    pub max_ticks: Option<u64>,
    /// Search threads. Each runs its own trajectory for an epoch of ticks; they exchange their
    /// best at the barrier between epochs, so the plan depends on the seed, not on scheduling.
    pub workers: usize,
    /// Ticks per epoch; default a quarter of a second's worth, or a tenth of the budget when that
    /// is less (see [`solve`]).
    pub epoch_ticks: Option<u64>,
}

impl Options {
    /// Two workers (the machine has two cores) and the default budget for `time_limit`.
    pub fn new(time_limit: Duration, seed: u64) -> Self {
        Options {
            time_limit,
            seed,
            max_ticks: None,
            workers: 2,
            epoch_ticks: None,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    #[serde(skip)]
    pub plan: Plan,
    /// Sum of priorities served.
    pub prize: f64,
    pub travel_s: u64,
    pub visits: usize,
    pub upper_bound: f64,
    /// prize ÷ upper bound.
    pub bound_share: f64,
    pub iterations: u64,
    pub ticks: u64,
    pub first_plan_ms: f64,
    pub runtime_ms: f64,
    /// The wall clock stopped the search before its work budget: the result may differ between
    /// runs with the same seed.
    pub cut_by_clock: bool,
    pub workers: usize,
    /// Pinned visits that could not be placed on their team-day (the plan leaves them out).
    pub pin_conflicts: Vec<String>,
    /// Re-planning: visits whose team-day differs from the previous plan (moved, added, dropped).
    pub changes: usize,
}

/// xoshiro-style generator seeded through SplitMix64: small, fast, and ours (no global RNG).
#[derive(Clone)]
struct Rng(u64, u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9E3779B97F4A7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D049BB133111EB);
            x ^ (x >> 31)
        };
        Rng(next() | 1, next())
    }
    fn next(&mut self) -> u64 {
        // xorshift128+
        let (mut s1, s0) = (self.0, self.1);
        self.0 = s0;
        s1 ^= s1 << 23;
        self.1 = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
        self.1.wrapping_add(s0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Where one site goes: (site, route, position in the route).
type Placement = (usize, usize, usize);

#[derive(Clone, Default)]
struct Route {
    stops: Vec<usize>,
    start: Vec<u32>,
    latest: Vec<u32>,
    travel: u64,
}

#[derive(Clone)]
struct Sol {
    routes: Vec<Route>,
    route_of: Vec<Option<u32>>,
    prize: i64,
    travel: u64,
    /// Sites whose route differs from the previous plan's (0 unless re-planning).
    changes: i64,
}

/// 1 if serving `site` on `route` (or leaving it out) differs from the previous plan.
#[inline]
fn change_of(p: &Problem, site: usize, route: Option<u32>) -> i64 {
    i64::from(p.replanning && route.map(|r| r as usize) != p.previous[site])
}

impl Sol {
    fn empty(p: &Problem) -> Self {
        let changes = (0..p.n_sites()).map(|s| change_of(p, s, None)).sum();
        Sol {
            routes: vec![Route::default(); p.routes.len()],
            route_of: vec![None; p.n_sites()],
            prize: 0,
            travel: 0,
            changes,
        }
    }

    /// Lexicographic: more prize, then fewer changes to the previous plan, then less travel.
    fn better_than(&self, other: &Sol) -> bool {
        (self.prize, -self.changes, std::cmp::Reverse(self.travel))
            > (other.prize, -other.changes, std::cmp::Reverse(other.travel))
    }

    fn same_score(&self, other: &Sol) -> bool {
        (self.prize, self.changes, self.travel) == (other.prize, other.changes, other.travel)
    }

    /// Earliest-start forward pass and latest-start backward pass; `false` if the order is infeasible.
    fn schedule(p: &Problem, r: usize, stops: &[usize], route: &mut Route) -> bool {
        let spec = &p.routes[r];
        route.start.clear();
        route.latest.clear();
        let (mut prev, mut dep, mut travel) = (spec.base, spec.start, 0u64);
        for &s in stops {
            let node = p.site_node(s);
            let leg = p.t(prev, node);
            travel += u64::from(leg);
            let Some(st) = first_fit(dep + leg, p.windows(s, r)) else {
                return false;
            };
            route.start.push(st);
            dep = st + p.service(s, r);
            prev = node;
        }
        let back = p.t(prev, spec.base);
        if dep + back > spec.end {
            return false;
        }
        travel += u64::from(back);
        route.latest.resize(stops.len(), 0);
        let (mut next, mut latest_next) = (spec.base, spec.end);
        for k in (0..stops.len()).rev() {
            let s = stops[k];
            let node = p.site_node(s);
            let Some(bound) = latest_next.checked_sub(p.t(node, next) + p.service(s, r)) else {
                return false;
            };
            let Some(l) = last_fit(bound, p.windows(s, r)) else {
                return false;
            };
            route.latest[k] = l;
            next = node;
            latest_next = l;
        }
        route.travel = travel;
        true
    }

    fn refresh(&mut self, p: &Problem, r: usize) {
        let mut route = std::mem::take(&mut self.routes[r]);
        let stops = std::mem::take(&mut route.stops);
        let old = route.travel;
        let ok = Self::schedule(p, r, &stops, &mut route);
        debug_assert!(ok, "refresh of a feasible route");
        route.stops = stops;
        self.travel = self.travel - old + route.travel;
        self.routes[r] = route;
    }

    /// Cheapest feasible position of `site` in route `r`: (position, added travel).
    fn best_in_route(
        &self,
        p: &Problem,
        site: usize,
        r: usize,
        ticks: &mut u64,
    ) -> Option<(usize, u32)> {
        let w = p.windows(site, r);
        if w.is_empty() {
            return None;
        }
        let spec = &p.routes[r];
        let route = &self.routes[r];
        let node = p.site_node(site);
        let n = route.stops.len();
        let mut best: Option<(usize, u32)> = None;
        for pos in 0..=n {
            *ticks += 1;
            let (prev, dep) = if pos == 0 {
                (spec.base, spec.start)
            } else {
                let s = route.stops[pos - 1];
                (p.site_node(s), route.start[pos - 1] + p.service(s, r))
            };
            let (next, latest_next) = if pos == n {
                (spec.base, spec.end)
            } else {
                (p.site_node(route.stops[pos]), route.latest[pos])
            };
            let to = p.t(prev, node);
            let Some(st) = first_fit(dep + to, w) else {
                continue;
            };
            let from = p.t(node, next);
            if st + p.service(site, r) + from > latest_next {
                continue;
            }
            let delta = (to + from).saturating_sub(p.t(prev, next));
            if best.is_none_or(|(_, d)| delta < d) {
                best = Some((pos, delta));
            }
        }
        best
    }

    fn best_insertion(
        &self,
        p: &Problem,
        site: usize,
        ticks: &mut u64,
    ) -> Option<(usize, usize, u32)> {
        let mut best: Option<(usize, usize, u32)> = None;
        for &r in &p.eligible[site] {
            if let Some((pos, d)) = self.best_in_route(p, site, r, ticks)
                && best.is_none_or(|(_, _, bd)| d < bd)
            {
                best = Some((r, pos, d));
            }
        }
        best
    }

    fn insert(&mut self, p: &Problem, site: usize, r: usize, pos: usize) {
        self.routes[r].stops.insert(pos, site);
        self.changes +=
            change_of(p, site, Some(r as u32)) - change_of(p, site, self.route_of[site]);
        self.route_of[site] = Some(r as u32);
        self.prize += p.prize[site];
        self.refresh(p, r);
    }

    /// Remove a served site; refused (false) for a pinned site, or if the shorter route would be
    /// infeasible, which a matrix rounded per leg can cause by a second.
    fn remove(&mut self, p: &Problem, site: usize) -> bool {
        let Some(r) = self.route_of[site] else {
            return false;
        };
        if p.pinned[site].is_some() {
            return false;
        }
        let r = r as usize;
        let mut stops = self.routes[r].stops.clone();
        stops.retain(|&s| s != site);
        let mut scratch = Route::default();
        if !Self::schedule(p, r, &stops, &mut scratch) {
            return false;
        }
        scratch.stops = stops;
        self.travel = self.travel - self.routes[r].travel + scratch.travel;
        self.routes[r] = scratch;
        self.changes += change_of(p, site, None) - change_of(p, site, self.route_of[site]);
        self.route_of[site] = None;
        self.prize -= p.prize[site];
        true
    }

    /// Whether another alternative of `site`'s visit is served (then `site` may not be).
    #[inline]
    fn taken(&self, p: &Problem, site: usize) -> bool {
        p.choice_of[site].is_some_and(|c| {
            p.choices[c as usize]
                .iter()
                .any(|&x| x != site && self.route_of[x].is_some())
        })
    }

    /// Remove `site` and, for a part of a multi-day visit, every other part (all or none), pushing
    /// what was removed onto `out`. Refused for anything pinned or when a shorter route would be
    /// infeasible.
    fn remove_unit(&mut self, p: &Problem, site: usize, out: &mut Vec<usize>) -> bool {
        let unit = p.unit(site);
        if unit.len() == 1 {
            let ok = self.remove(p, site);
            if ok {
                out.push(site);
            }
            return ok;
        }
        if unit
            .iter()
            .any(|&s| p.pinned[s].is_some() || self.route_of[s].is_none())
        {
            return false;
        }
        // The parts are on different routes (different days): check every shorter route first.
        let mut rebuilt = Vec::with_capacity(unit.len());
        for &s in unit {
            let r = self.route_of[s].expect("checked above") as usize;
            let mut stops = self.routes[r].stops.clone();
            stops.retain(|&x| x != s);
            let mut scratch = Route::default();
            if !Self::schedule(p, r, &stops, &mut scratch) {
                return false;
            }
            scratch.stops = stops;
            rebuilt.push((s, r, scratch));
        }
        for (s, r, scratch) in rebuilt {
            self.travel = self.travel - self.routes[r].travel + scratch.travel;
            self.routes[r] = scratch;
            self.changes += change_of(p, s, None) - change_of(p, s, self.route_of[s]);
            self.route_of[s] = None;
            self.prize -= p.prize[s];
            out.push(s);
        }
        true
    }

    /// The cheapest placement of group `g`: part i on the i-th working day of one team from a
    /// start day, each at its cheapest position. (site, route, position) per part, and the added
    /// travel.
    fn best_group_insertion(
        &self,
        p: &Problem,
        g: usize,
        ticks: &mut u64,
    ) -> Option<(Vec<Placement>, u64)> {
        let parts = &p.groups[g];
        let mut best: Option<(Vec<Placement>, u64)> = None;
        'start: for &r0 in &p.eligible[parts[0]] {
            let mut at = Vec::with_capacity(parts.len());
            let mut delta = 0u64;
            let mut r = r0;
            for (i, &s) in parts.iter().enumerate() {
                if i > 0 {
                    match p.part_route(g, r, 1) {
                        Some(next) => r = next,
                        None => continue 'start,
                    }
                }
                match self.best_in_route(p, s, r, ticks) {
                    Some((pos, d)) => {
                        at.push((s, r, pos));
                        delta += u64::from(d);
                    }
                    None => continue 'start,
                }
            }
            if best.as_ref().is_none_or(|(_, bd)| delta < *bd) {
                best = Some((at, delta));
            }
        }
        best
    }

    /// Insert `site` (a whole group for a part of one) at its cheapest feasible place, if any.
    fn insert_unit(&mut self, p: &Problem, site: usize, ticks: &mut u64) -> bool {
        if self.taken(p, site) {
            return false;
        }
        match p.group_of[site] {
            None => match self.best_insertion(p, site, ticks) {
                Some((r, pos, _)) => {
                    self.insert(p, site, r, pos);
                    true
                }
                None => false,
            },
            Some(g) => match self.best_group_insertion(p, g as usize, ticks) {
                Some((at, _)) => {
                    for (s, r, pos) in at {
                        self.insert(p, s, r, pos);
                    }
                    true
                }
                None => false,
            },
        }
    }

    /// Put `site` into route `r` with every order of the route's stops tried (routes of up to
    /// six stops, as `resequence`); for pins that the cheapest position alone cannot fit.
    fn insert_by_enumeration(
        &mut self,
        p: &Problem,
        site: usize,
        r: usize,
        ticks: &mut u64,
    ) -> bool {
        let mut order = self.routes[r].stops.clone();
        order.push(site);
        let n = order.len();
        if n > 7 {
            return false;
        }
        let mut scratch = Route::default();
        let mut c = vec![0usize; n];
        let mut i = 0;
        let mut found = Self::schedule(p, r, &order, &mut scratch);
        while !found && i < n {
            if c[i] < i {
                if i % 2 == 0 {
                    order.swap(0, i)
                } else {
                    order.swap(c[i], i)
                }
                *ticks += n as u64;
                found = Self::schedule(p, r, &order, &mut scratch);
                c[i] += 1;
                i = 0;
            } else {
                c[i] = 0;
                i += 1;
            }
        }
        if found {
            self.routes[r].stops = order;
            self.changes +=
                change_of(p, site, Some(r as u32)) - change_of(p, site, self.route_of[site]);
            self.route_of[site] = Some(r as u32);
            self.prize += p.prize[site];
            self.refresh(p, r);
        }
        found
    }

    /// Put `site` on route `r`: at its cheapest position, or else with the route's stops
    /// reordered (for pins that the cheapest position alone cannot fit).
    fn place_on(&mut self, p: &Problem, site: usize, r: usize, ticks: &mut u64) -> bool {
        match self.best_in_route(p, site, r, ticks) {
            Some((pos, _)) => {
                self.insert(p, site, r, pos);
                true
            }
            None => self.insert_by_enumeration(p, site, r, ticks),
        }
    }

    /// Try every order of a short route and keep the feasible one with the least travel.
    fn resequence(&mut self, p: &Problem, r: usize, ticks: &mut u64) {
        let n = self.routes[r].stops.len();
        if !(2..=6).contains(&n) {
            return;
        }
        let mut order = self.routes[r].stops.clone();
        let mut best = (self.routes[r].travel, order.clone());
        let mut scratch = Route::default();
        let mut c = vec![0usize; n];
        let mut i = 0;
        // Heap's algorithm: every permutation once.
        while i < n {
            if c[i] < i {
                if i % 2 == 0 {
                    order.swap(0, i)
                } else {
                    order.swap(c[i], i)
                }
                *ticks += n as u64;
                if Self::schedule(p, r, &order, &mut scratch) && scratch.travel < best.0 {
                    best = (scratch.travel, order.clone());
                }
                c[i] += 1;
                i = 0;
            } else {
                c[i] = 0;
                i += 1;
            }
        }
        if best.1 != self.routes[r].stops {
            self.routes[r].stops = best.1;
            self.refresh(p, r);
        }
    }

    fn to_plan(&self, p: &Problem) -> Plan {
        let mut routes = Vec::new();
        for (r, route) in self.routes.iter().enumerate() {
            if route.stops.is_empty() {
                continue;
            }
            let spec = &p.routes[r];
            let (mut prev, mut dep) = (spec.base, spec.start);
            let mut stops = Vec::new();
            for (k, &s) in route.stops.iter().enumerate() {
                let node = p.site_node(s);
                let arrive = dep + p.t(prev, node);
                let start = route.start[k];
                dep = start + p.service(s, r);
                stops.push(PlanStop {
                    site: p.site_ids[s].clone(),
                    arrive: format_hms(arrive),
                    start: format_hms(start),
                    end: format_hms(dep),
                });
                prev = node;
            }
            routes.push(PlanRoute {
                team: p.team_ids[spec.team].clone(),
                day: spec.day.clone(),
                stops,
            });
        }
        Plan { routes }
    }
}

/// Pins first (each on its team-day, by enumeration of the route's orders if the cheapest
/// position fails; the ones that still do not fit are conflicts), then the previous plan's visits
/// on their old team-days where they still fit (a warm start that keeps changes few).
fn place_fixed(p: &Problem, ticks: &mut u64) -> (Sol, Vec<usize>) {
    let mut sol = Sol::empty(p);
    let mut conflicts = Vec::new();
    let mut order: Vec<usize> = (0..p.n_sites())
        .filter(|&s| p.pinned[s].is_some())
        .collect();
    order.sort_by(|&a, &b| p.prize[b].cmp(&p.prize[a]).then(a.cmp(&b)));
    let mut groups_done = vec![false; p.groups.len()];
    for s in order {
        if let Some(g) = p.group_of[s] {
            // A pinned part places its whole group: the other parts on the team's neighbouring
            // working days. All parts fit, or all are conflicts.
            let g = g as usize;
            if std::mem::replace(&mut groups_done[g], true) {
                continue;
            }
            let parts = &p.groups[g];
            let anchor = parts.iter().position(|&x| x == s).expect("a member");
            let pinned_at = p.pinned[s].expect("filtered on pins");
            let snapshot = sol.clone();
            let mut ok = true;
            for (i, &part) in parts.iter().enumerate() {
                let placed = p
                    .part_route(g, pinned_at, i as isize - anchor as isize)
                    .filter(|&r| p.eligible[part].contains(&r))
                    .is_some_and(|r| sol.place_on(p, part, r, ticks));
                if !placed {
                    ok = false;
                    break;
                }
            }
            if !ok {
                sol = snapshot;
                conflicts.extend(parts.iter().filter(|&&x| p.pinned[x].is_some()));
            }
            continue;
        }
        let r = p.pinned[s].expect("filtered on pins");
        if sol.taken(p, s) || !(p.eligible[s].contains(&r) && sol.place_on(p, s, r, ticks)) {
            conflicts.push(s);
        }
    }
    // The previous plan's routes in their old order where that order still works; otherwise
    // each visit at its cheapest place in its old route.
    let mut warm: Vec<usize> = (0..p.n_sites())
        .filter(|&s| {
            p.pinned[s].is_none()
                && p.group_of[s].is_none()
                && !sol.taken(p, s)
                && p.previous[s].is_some_and(|r| p.eligible[s].contains(&r))
                // Of a visit's alternatives, only the first with a previous route starts warm.
                && !p.choice_of[s].is_some_and(|c| {
                    p.choices[c as usize]
                        .iter()
                        .any(|&x| x < s && p.previous[x].is_some())
                })
        })
        .collect();
    warm.sort_by_key(|&s| (p.previous[s], p.previous_seq[s], s));
    let mut scratch = Route::default();
    for chunk in warm.chunk_by(|&a, &b| p.previous[a] == p.previous[b]) {
        let r = p.previous[chunk[0]].expect("filtered on previous");
        if sol.routes[r].stops.is_empty() && Sol::schedule(p, r, chunk, &mut scratch) {
            for &s in chunk {
                sol.changes += change_of(p, s, Some(r as u32)) - change_of(p, s, None);
                sol.route_of[s] = Some(r as u32);
                sol.prize += p.prize[s];
            }
            scratch.stops = chunk.to_vec();
            sol.travel += scratch.travel;
            sol.routes[r] = std::mem::take(&mut scratch);
            continue;
        }
        let mut by_prize = chunk.to_vec();
        by_prize.sort_by(|&a, &b| p.prize[b].cmp(&p.prize[a]).then(a.cmp(&b)));
        for s in by_prize {
            *ticks += 1;
            if let Some((pos, _)) = sol.best_in_route(p, s, r, ticks) {
                sol.insert(p, s, r, pos);
            }
        }
    }
    // Multi-day visits go back on their old days when all their parts still fit there.
    for (g, parts) in p.groups.iter().enumerate() {
        if groups_done[g] || parts.iter().any(|&x| sol.route_of[x].is_some()) {
            continue;
        }
        let Some(first) = p.previous[parts[0]] else {
            continue;
        };
        let same_days = parts.iter().enumerate().all(|(i, &x)| {
            p.previous[x].is_some() && p.previous[x] == p.part_route(g, first, i as isize)
        });
        if !same_days {
            continue;
        }
        let snapshot = sol.clone();
        for &x in parts {
            let r = p.previous[x].expect("checked above");
            *ticks += 1;
            match sol.best_in_route(p, x, r, ticks) {
                Some((pos, _)) => sol.insert(p, x, r, pos),
                None => {
                    sol = snapshot;
                    break;
                }
            }
        }
    }
    (sol, conflicts)
}

/// Parallel cheapest-density construction from `sol`: repeatedly insert the unserved site with
/// the best prize per second (added travel + service) over all team-days, with a per-(site,
/// route) cache that only the changed route's column invalidates.
fn construct(p: &Problem, mut sol: Sol, ticks: &mut u64) -> Sol {
    let n_routes = p.routes.len();
    let mut cache: Vec<Option<(usize, u32)>> = vec![None; p.n_sites() * n_routes];
    let mut open: Vec<usize> = (0..p.n_sites())
        .filter(|&s| !p.eligible[s].is_empty() && p.earns(s) && sol.route_of[s].is_none())
        .collect();
    for &s in &open {
        for &r in &p.eligible[s] {
            cache[s * n_routes + r] = sol.best_in_route(p, s, r, ticks);
        }
    }
    loop {
        // (density, site, route, position); for a group: its first part and start route.
        let mut best: Option<(f64, usize, usize, usize)> = None;
        for &s in &open {
            let Some(g) = p.group_of[s] else {
                if sol.taken(p, s) {
                    continue;
                }
                for &r in &p.eligible[s] {
                    if let Some((pos, delta)) = cache[s * n_routes + r] {
                        let density = p.prize[s] as f64 / f64::from(delta + p.service(s, r) + 1);
                        if best.is_none_or(|(d, bs, _, _)| density > d || (density == d && s < bs))
                        {
                            best = Some((density, s, r, pos));
                        }
                    }
                }
                continue;
            };
            let parts = &p.groups[g as usize];
            if parts[0] != s {
                continue;
            }
            'start: for &r0 in &p.eligible[s] {
                let mut route = r0;
                let (mut prize, mut cost) = (0i64, 1u64);
                for (i, &x) in parts.iter().enumerate() {
                    if i > 0 {
                        match p.part_route(g as usize, route, 1) {
                            Some(next) => route = next,
                            None => continue 'start,
                        }
                    }
                    let Some((_, delta)) = cache[x * n_routes + route] else {
                        continue 'start;
                    };
                    prize += p.prize[x];
                    cost += u64::from(delta + p.service(x, route));
                }
                let density = prize as f64 / cost as f64;
                if best.is_none_or(|(d, bs, _, _)| density > d || (density == d && s < bs)) {
                    best = Some((density, s, r0, 0));
                }
            }
        }
        let Some((_, s, r, pos)) = best else { break };
        let mut touched = Vec::with_capacity(1);
        match p.group_of[s] {
            None => {
                sol.insert(p, s, r, pos);
                touched.push(r);
                open.retain(|&x| x != s && !sol.taken(p, x));
            }
            Some(g) => {
                let parts = &p.groups[g as usize];
                let mut route = r;
                for (i, &x) in parts.iter().enumerate() {
                    if i > 0 {
                        route = p
                            .part_route(g as usize, route, 1)
                            .expect("a complete chain");
                    }
                    let (at, _) = cache[x * n_routes + route].expect("a complete chain");
                    sol.insert(p, x, route, at);
                    touched.push(route);
                }
                open.retain(|x| !parts.contains(x));
            }
        }
        for r in touched {
            for &o in &open {
                if !p.windows(o, r).is_empty() {
                    cache[o * n_routes + r] = sol.best_in_route(p, o, r, ticks);
                }
            }
        }
    }
    sol
}

/// k nearest sites of every site (by travel), for related removal and candidate lists.
fn neighbours(p: &Problem, k: usize) -> Vec<Vec<usize>> {
    let n = p.n_sites();
    // One buffer and the matrix row as a slice: this runs n² times per search.
    let mut others: Vec<(u32, usize)> = Vec::with_capacity(n);
    (0..n)
        .map(|i| {
            others.clear();
            others.extend(p.site_row(i).iter().copied().zip(0..n));
            others.swap_remove(i);
            let k = k.min(others.len());
            if k < others.len() {
                others.select_nth_unstable(k);
                others.truncate(k);
            }
            others.sort_unstable();
            others.iter().map(|&(_, j)| j).collect()
        })
        .collect()
}

/// What every worker reads and nobody changes.
struct Shared<'a> {
    p: &'a Problem,
    neigh: Vec<Vec<usize>>,
    /// Unserved sites worth pulling in wherever they are, best prize per second of service plus
    /// the round trip from the nearest base first.
    pool: Vec<usize>,
    density: Vec<f64>,
    budget: u64,
}

/// One search trajectory: ruin and recreate with a prize threshold that shrinks over the run,
/// resequencing of improved routes, and a restart from its best when it stalls.
struct Worker {
    rng: Rng,
    current: Sol,
    best: Sol,
    since_best: u64,
    iterations: u64,
    ticks: u64,
}

impl Worker {
    fn new(seed: u64, start: &Sol, ticks: u64) -> Self {
        Worker {
            rng: Rng::new(seed),
            current: start.clone(),
            best: start.clone(),
            since_best: 0,
            iterations: 0,
            ticks,
        }
    }

    /// Search until this worker has spent `until` ticks.
    fn run(&mut self, sh: &Shared, until: u64) {
        let p = sh.p;
        while self.ticks < until && !sh.pool.is_empty() {
            self.iterations += 1;
            // Copying the state and scanning the sites cost about two insertion tests per site.
            self.ticks += 2 * p.n_sites() as u64;
            let mut cand = self.current.clone();
            let removed = self.ruin(sh, &mut cand);
            self.recreate(sh, &mut cand, &removed);
            // Accept: better, or within a prize threshold that shrinks to zero over the run.
            let progress = self.ticks as f64 / sh.budget.max(1) as f64;
            let tau = (0.003 * self.best.prize as f64 * (1.0 - progress).max(0.0)) as i64;
            if cand.better_than(&self.current)
                || cand.prize > self.current.prize - tau
                || cand.same_score(&self.current)
            {
                self.current = cand;
            }
            if self.current.better_than(&self.best) {
                let mut polished = self.current.clone();
                for r in 0..p.routes.len() {
                    polished.resequence(p, r, &mut self.ticks);
                }
                self.current = polished.clone();
                self.best = polished;
                self.since_best = 0;
            } else {
                self.since_best += 1;
                if self.since_best > 3_000 {
                    self.current = self.best.clone();
                    self.since_best = 0;
                }
            }
        }
    }

    fn ruin(&mut self, sh: &Shared, cand: &mut Sol) -> Vec<usize> {
        let p = sh.p;
        let rng = &mut self.rng;
        // Pinned visits never leave their team-day.
        let served: Vec<usize> = (0..p.n_sites())
            .filter(|&s| cand.route_of[s].is_some() && p.pinned[s].is_none())
            .collect();
        let mut removed = Vec::new();
        if served.is_empty() {
            return removed;
        }
        match rng.below(10) {
            0..=5 => {
                let seed_site = served[rng.below(served.len())];
                let k = 1 + rng.below(8);
                for s in std::iter::once(seed_site).chain(sh.neigh[seed_site].iter().copied()) {
                    if removed.len() >= k {
                        break;
                    }
                    if cand.route_of[s].is_some() {
                        cand.remove_unit(p, s, &mut removed);
                    }
                }
            }
            6..=7 => {
                let nonempty: Vec<usize> = (0..p.routes.len())
                    .filter(|&r| !cand.routes[r].stops.is_empty())
                    .collect();
                let r = nonempty[rng.below(nonempty.len())];
                for s in cand.routes[r].stops.clone() {
                    if cand.route_of[s].is_some() {
                        cand.remove_unit(p, s, &mut removed);
                    }
                }
            }
            _ => {
                let k = 1 + rng.below(4);
                for _ in 0..k {
                    let s = served[rng.below(served.len())];
                    if cand.route_of[s].is_some() {
                        cand.remove_unit(p, s, &mut removed);
                    }
                }
            }
        }
        removed
    }

    /// Recreate: the removed sites, unserved neighbours of them, and the best of the pool, in
    /// prize, density or random order, each at its cheapest feasible position.
    fn recreate(&mut self, sh: &Shared, cand: &mut Sol, removed: &[usize]) {
        let p = sh.p;
        let rng = &mut self.rng;
        let mut candidates: Vec<usize> = removed.to_vec();
        for &s in removed {
            candidates.extend(
                sh.neigh[s]
                    .iter()
                    .take(10)
                    .copied()
                    .filter(|&x| cand.route_of[x].is_none()),
            );
        }
        let pool_sample = 20 + rng.below(30);
        candidates.extend(
            sh.pool
                .iter()
                .copied()
                .filter(|&x| cand.route_of[x].is_none())
                .take(pool_sample),
        );
        // A part of a multi-day visit stands for its whole group, through its first part.
        for s in candidates.iter_mut() {
            *s = p.unit(*s)[0];
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.retain(|&s| !p.eligible[s].is_empty() && p.earns(s));
        match rng.below(3) {
            0 => candidates.sort_by(|&a, &b| p.prize[b].cmp(&p.prize[a]).then(a.cmp(&b))),
            1 => {
                candidates.sort_by(|&a, &b| sh.density[b].total_cmp(&sh.density[a]).then(a.cmp(&b)))
            }
            _ => {
                for i in (1..candidates.len()).rev() {
                    candidates.swap(i, rng.below(i + 1));
                }
            }
        }
        for s in candidates {
            if cand.route_of[s].is_some() || rng.chance(0.02) {
                continue;
            }
            cand.insert_unit(p, s, &mut self.ticks);
        }
    }
}

/// SplitMix-style mix of the run's seed and a worker id, so workers never share a stream.
fn worker_seed(seed: u64, worker: usize) -> u64 {
    let mut z = seed ^ (worker as u64).wrapping_mul(0xD1B54A32D192ED03);
    z = (z ^ (z >> 33)).wrapping_mul(0xFF51AFD7ED558CCD);
    z ^ (z >> 33)
}

pub fn solve(p: &Problem, options: &Options) -> Outcome {
    let started = Instant::now();
    let budget = options
        .max_ticks
        .unwrap_or((options.time_limit.as_secs_f64() * TICKS_PER_SECOND as f64) as u64);
    // The clock is only read between epochs, so an epoch is at most a tenth of the budget: on a
    // machine slower than the tick rate assumes (an unoptimised build, a loaded host) a short time
    // limit is still kept to within a tenth, instead of running a whole quarter-second epoch of
    // work that takes seconds there.
    let epoch = options
        .epoch_ticks
        .unwrap_or((TICKS_PER_SECOND / 4).min(budget / 10))
        .max(1);
    let workers = options.workers.max(1);
    let mut ticks = 0u64;
    let (fixed, conflicts) = place_fixed(p, &mut ticks);
    let mut start = construct(p, fixed, &mut ticks);
    let first_plan_ms = started.elapsed().as_secs_f64() * 1000.0;
    let density: Vec<f64> = (0..p.n_sites())
        .map(|s| {
            let trip = p.eligible[s]
                .iter()
                .map(|&r| 2 * p.t(p.routes[r].base, p.site_node(s)))
                .min()
                .unwrap_or(0);
            p.prize[s] as f64 / f64::from(p.min_service[s] + trip + 1)
        })
        .collect();
    let mut pool: Vec<usize> = (0..p.n_sites())
        .filter(|&s| !p.eligible[s].is_empty() && p.earns(s))
        .collect();
    pool.sort_by(|&a, &b| density[b].total_cmp(&density[a]).then(a.cmp(&b)));
    for r in 0..p.routes.len() {
        start.resequence(p, r, &mut ticks);
    }
    let shared = Shared {
        p,
        neigh: neighbours(p, 30),
        pool,
        density,
        budget,
    };
    let mut team: Vec<Worker> = (0..workers)
        .map(|w| Worker::new(worker_seed(options.seed, w), &start, ticks))
        .collect();
    let mut cut_by_clock = false;
    let mut done = ticks;
    let mut epochs = 0u64;
    // Fixed-work epochs; the clock is read only here, between them, as a safety stop.
    while done < budget {
        let epoch_started = Instant::now();
        let until = (done + epoch).min(budget);
        if team.len() == 1 {
            team[0].run(&shared, until);
        } else {
            std::thread::scope(|scope| {
                for w in team.iter_mut() {
                    let shared = &shared;
                    scope.spawn(move || w.run(shared, until));
                }
            });
        }
        done = until;
        epochs += 1;
        // The best so far, ties to the lower worker id; every other epoch the others adopt it
        // (the rest of the time they keep their own trajectory, for diversity).
        let lead = (0..team.len()).fold(0, |b, w| {
            if team[w].best.better_than(&team[b].best) {
                w
            } else {
                b
            }
        });
        if epochs.is_multiple_of(2) {
            let best = team[lead].best.clone();
            for (w, worker) in team.iter_mut().enumerate() {
                if w != lead && best.better_than(&worker.current) {
                    worker.current = best.clone();
                    worker.best = best.clone();
                    worker.since_best = 0;
                }
            }
        }
        if shared.pool.is_empty() {
            break;
        }
        let elapsed = started.elapsed();
        if done < budget && elapsed + epoch_started.elapsed() > options.time_limit.mul_f64(0.97) {
            cut_by_clock = true;
            break;
        }
    }
    let lead = (0..team.len()).fold(0, |b, w| {
        if team[w].best.better_than(&team[b].best) {
            w
        } else {
            b
        }
    });
    // A last pass adds every unit that still fits as it is (the search's random skips can leave
    // one out), so that "crowded out" is true of everything left unserved.
    let mut best = team[lead].best.clone();
    let mut last_pass_ticks = 0;
    for &s in &shared.pool {
        let first = p.unit(s)[0];
        if best.route_of[first].is_none() {
            best.insert_unit(p, first, &mut last_pass_ticks);
        }
    }
    // Then every one-for-one swap that gains priority (a visit left out for a cheaper one that
    // blocks it), so that a visit is reported crowded out only by visits worth more.
    replace_pass(p, &mut best, &shared.pool, &mut last_pass_ticks);
    let best = &best;
    let plan = best.to_plan(p);
    let bound = upper_bound(p);
    let prize = best.prize as f64 / 1000.0;
    let served_count = best.route_of.iter().filter(|r| r.is_some()).count();
    Outcome {
        plan,
        prize,
        travel_s: best.travel,
        visits: served_count,
        upper_bound: bound,
        bound_share: if bound > 0.0 { prize / bound } else { 1.0 },
        iterations: team.iter().map(|w| w.iterations).sum(),
        ticks: team.iter().map(|w| w.ticks).sum(),
        first_plan_ms,
        runtime_ms: started.elapsed().as_secs_f64() * 1000.0,
        cut_by_clock,
        workers,
        pin_conflicts: conflicts.iter().map(|&s| p.site_ids[s].clone()).collect(),
        changes: best.changes.max(0) as usize,
    }
}

/// The prize of the unit `site` belongs to (all parts of a multi-day visit).
fn unit_prize(p: &Problem, site: usize) -> i64 {
    p.unit(site).iter().map(|&x| p.prize[x]).sum()
}

/// How many unserved visits, best first, the swap pass looks at, and how many passes it makes:
/// a bound on its work at the end of every solve.
const SWAP_CANDIDATES: usize = 300;
const SWAP_PASSES: usize = 3;

/// One-for-one swaps on the final plan: an unserved single visit goes in where removing one
/// cheaper visit (and putting that one back elsewhere if it fits) makes room, when the plan
/// gains priority. Multi-day visits are left to the search.
fn replace_pass(p: &Problem, sol: &mut Sol, pool: &[usize], ticks: &mut u64) {
    let mut order: Vec<usize> = pool
        .iter()
        .copied()
        .filter(|&s| p.group_of[s].is_none())
        .collect();
    order.sort_by(|&a, &b| p.prize[b].cmp(&p.prize[a]).then(a.cmp(&b)));
    order.truncate(SWAP_CANDIDATES);
    for _ in 0..SWAP_PASSES {
        let mut improved = false;
        'site: for &s in &order {
            if sol.route_of[s].is_some() || sol.taken(p, s) {
                continue;
            }
            for &r in &p.eligible[s] {
                for &victim in &sol.routes[r].stops {
                    if p.pinned[victim].is_some() || unit_prize(p, victim) >= p.prize[s] {
                        continue;
                    }
                    *ticks += 1;
                    let mut trial = sol.clone();
                    let mut removed = Vec::new();
                    if !trial.remove_unit(p, victim, &mut removed) {
                        continue;
                    }
                    let Some((pos, _)) = trial.best_in_route(p, s, r, ticks) else {
                        continue;
                    };
                    trial.insert(p, s, r, pos);
                    trial.insert_unit(p, removed[0], ticks);
                    if trial.better_than(sol) {
                        *sol = trial;
                        improved = true;
                        continue 'site;
                    }
                }
            }
        }
        if !improved {
            break;
        }
    }
}

/// Why a site with a positive prize is not in the plan. Every reason is established with the
/// planner's own checker ([`super::evaluate`]) on one-site plans, so it is true when reported.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Why {
    /// Not open on any day and hour an allowed team can be there this week.
    NoWindow,
    /// Base → site → base, with no time spent at the site, fits in no working day of an allowed
    /// team: the shortest round trip takes `round_trip_min`.
    TooFar { round_trip_min: u32 },
    /// The round trip fits and the site is open when a team can be there, but the visit
    /// (`service_min` with the fastest allowed team) is longer than the longest time a team can
    /// spend inside one opening window after travelling there and before travelling back
    /// (`window_min`).
    NeedsMoreTime { service_min: u32, window_min: u32 },
    /// Each part of a multi-day visit fits a day on its own, but no team has `parts`
    /// consecutive working days on which all of them fit.
    NoConsecutiveDays { parts: u32 },
    /// It fits an empty day, but no day has room for it in this plan: the cheapest single visit
    /// it could replace has this priority (`None`: no single visit's removal makes room), no
    /// less than its own `priority` (all its parts).
    CrowdedOut {
        priority: f64,
        displaced_priority: Option<f64>,
    },
    /// It still fits a day of this plan as it is: the search left it out.
    Overlooked,
}

/// Rebuild the search state of a plan (ids as in the instance).
fn sol_from_plan(p: &Problem, plan: &Plan) -> Option<Sol> {
    let site_index: std::collections::HashMap<&str, usize> = p
        .site_ids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let mut sol = Sol::empty(p);
    for route in &plan.routes {
        let r = p
            .routes
            .iter()
            .position(|s| p.team_ids[s.team] == route.team && s.day == route.day)?;
        let stops: Vec<usize> = route
            .stops
            .iter()
            .map(|s| site_index.get(s.site.as_str()).copied())
            .collect::<Option<_>>()?;
        for &s in &stops {
            sol.changes += change_of(p, s, Some(r as u32)) - change_of(p, s, None);
            sol.route_of[s] = Some(r as u32);
            sol.prize += p.prize[s];
        }
        let mut built = Route::default();
        if !Sol::schedule(p, r, &stops, &mut built) {
            return None;
        }
        built.stops = stops;
        sol.travel += built.travel;
        sol.routes[r] = built;
    }
    Some(sol)
}

/// What a one-route check changes about a site before running the checker.
#[derive(Clone, Copy, PartialEq)]
enum Trial {
    /// No time at the site and no opening hours: only the round trip counts.
    RoundTrip,
    /// No time at the site, opening hours kept: can a team be there while it is open?
    Reach,
    /// The site as it is.
    AsIs,
}

/// Does the checker accept a plan of one route `(team, day)` visiting `stops` (instance indices,
/// in order), the first stop changed as `trial` says? Pins, re-planning marks and groups are
/// left out: this asks about time and distance only.
fn checker_accepts(
    inst: &super::problem::Instance,
    team: &str,
    day: &str,
    stops: &[usize],
    trial: Trial,
) -> bool {
    checker_accepts_changed(inst, team, day, stops, stops.first().copied(), trial)
}

/// [`checker_accepts`] with the stop to change named (`None`: none changed).
fn checker_accepts_changed(
    inst: &super::problem::Instance,
    team: &str,
    day: &str,
    stops: &[usize],
    changed: Option<usize>,
    trial: Trial,
) -> bool {
    use super::problem::{Instance, PlanRoute, PlanStop};
    let Some(t) = inst.teams.iter().find(|t| t.id == team) else {
        return false;
    };
    let mut team = t.clone();
    team.days.retain(|d| d.day == day);
    for d in &mut team.days {
        d.frozen = false;
    }
    let sites: Vec<_> = stops
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let mut s = inst.sites[i].clone();
            s.id = format!("{k}:{}", s.id);
            s.pin = None;
            s.previous = None;
            s.group = None;
            s.choice = None;
            // Only this route's team is in the trial instance: keep only its service time.
            if let Some(by_team) = &mut s.service_by_team {
                by_team.retain(|t, _| *t == team.id);
            }
            if Some(i) == changed && trial != Trial::AsIs {
                s.service_min = 0.0;
                s.service_by_team = None;
                if trial == Trial::RoundTrip {
                    s.windows = None;
                }
            }
            s
        })
        .collect();
    let plan = Plan {
        routes: vec![PlanRoute {
            team: team.id.clone(),
            day: day.to_string(),
            stops: sites
                .iter()
                .map(|s| PlanStop {
                    site: s.id.clone(),
                    arrive: String::new(),
                    start: String::new(),
                    end: String::new(),
                })
                .collect(),
        }],
    };
    let mini = Instance {
        name: String::new(),
        speed_kmh: inst.speed_kmh,
        road_factor: inst.road_factor,
        teams: vec![team],
        sites,
    };
    match Problem::from_instance(&mini) {
        Ok(problem) => super::check::evaluate(&mini, &problem, &plan).feasible,
        Err(_) => false,
    }
}

/// Why `site` (one visit, or one part taken alone) cannot be planned on an empty day, if it cannot.
fn alone(
    p: &Problem,
    inst: &super::problem::Instance,
    site: usize,
    routes: &[usize],
) -> Option<Why> {
    let on = |r: usize, trial: Trial| {
        checker_accepts(
            inst,
            &p.team_ids[p.routes[r].team],
            &p.routes[r].day,
            &[site],
            trial,
        )
    };
    if routes.is_empty() {
        return Some(Why::NoWindow);
    }
    if !routes.iter().any(|&r| on(r, Trial::RoundTrip)) {
        let node = p.site_node(site);
        let round_trip = routes
            .iter()
            .map(|&r| p.t(p.routes[r].base, node) + p.t(node, p.routes[r].base))
            .min()
            .unwrap_or(0);
        return Some(Why::TooFar {
            round_trip_min: round_trip.div_ceil(60),
        });
    }
    if !routes.iter().any(|&r| on(r, Trial::Reach)) {
        return Some(Why::NoWindow);
    }
    if !routes.iter().any(|&r| on(r, Trial::AsIs)) {
        // The team-day where the visit comes closest to fitting: its service and its window.
        let (service, window) = routes
            .iter()
            .map(|&r| (p.service(site, r), longest_window(p, inst, site, r)))
            .min_by_key(|(service, window)| i64::from(*service) - i64::from(*window))
            .unwrap_or((0, 0));
        return Some(Why::NeedsMoreTime {
            service_min: service.div_ceil(60),
            window_min: window / 60,
        });
    }
    None
}

/// The longest time a team can spend at `site` inside one of its opening windows on `route`,
/// after travelling there from the base and leaving time to travel back (seconds).
fn longest_window(p: &Problem, inst: &super::problem::Instance, site: usize, route: usize) -> u32 {
    use super::problem::parse_hms;
    let node = p.site_node(site);
    let spec = &p.routes[route];
    let earliest = spec.start + p.t(spec.base, node);
    let latest = spec.end.saturating_sub(p.t(node, spec.base));
    let windows: Vec<(u32, u32)> = match &inst.sites[site].windows {
        None => vec![(spec.start, spec.end)],
        Some(w) if w.is_empty() => vec![(spec.start, spec.end)],
        Some(w) => w
            .iter()
            .filter(|w| w.day == spec.day)
            .filter_map(|w| Some((parse_hms(&w.open).ok()?, parse_hms(&w.close).ok()?)))
            .collect(),
    };
    windows
        .into_iter()
        .map(|(o, c)| c.min(latest).saturating_sub(o.max(earliest)))
        .max()
        .unwrap_or(0)
}

/// Explain each of `sites` (instance indices) that the plan leaves out. A part of a multi-day
/// visit is explained for its whole group.
pub fn why_unserved(
    p: &Problem,
    inst: &super::problem::Instance,
    plan: &Plan,
    sites: &[usize],
) -> Vec<(usize, Why)> {
    let Some(sol) = sol_from_plan(p, plan) else {
        return Vec::new();
    };
    // The team-days an unplanned visit could still go on: allowed teams, days not yet worked.
    let open_routes = |s: usize| -> Vec<usize> {
        (0..p.routes.len())
            .filter(|&r| {
                let team = &p.team_ids[p.routes[r].team];
                let frozen = inst
                    .teams
                    .iter()
                    .find(|t| &t.id == team)
                    .and_then(|t| t.days.iter().find(|d| d.day == p.routes[r].day))
                    .is_some_and(|d| d.frozen);
                !frozen
                    && inst.sites[s]
                        .teams
                        .as_ref()
                        .is_none_or(|t| t.contains(team))
            })
            .collect()
    };
    sites
        .iter()
        .filter(|&&s| sol.route_of[s].is_none() && !sol.taken(p, s))
        .map(|&s| {
            let unit = p.unit(s);
            let routes = open_routes(s);
            for &part in unit {
                if let Some(why) = alone(p, inst, part, &routes) {
                    return (s, why);
                }
            }
            if unit.len() > 1 {
                return (s, group_reason(p, inst, unit, &routes));
            }
            (s, crowded_out(p, inst, &sol, s, &routes))
        })
        .collect()
}

/// A multi-day visit whose every part fits some day alone: do its parts fit consecutive empty
/// days of one team (then the plan is full), or not at all?
fn group_reason(
    p: &Problem,
    inst: &super::problem::Instance,
    unit: &[usize],
    routes: &[usize],
) -> Why {
    use super::problem::{Instance, PlanRoute, PlanStop};
    let fits_empty_chain = routes.iter().any(|&r0| {
        let chain: Option<Vec<usize>> = (0..unit.len())
            .map(|i| {
                let g = p.group_of[unit[0]].map_or(0, |g| g as usize);
                p.part_route(g, r0, i as isize)
                    .filter(|r| routes.contains(r))
            })
            .collect();
        let Some(chain) = chain else { return false };
        // The whole group on these days, checked together (same team, consecutive, in order).
        let mini = Instance {
            name: String::new(),
            speed_kmh: inst.speed_kmh,
            road_factor: inst.road_factor,
            teams: inst
                .teams
                .iter()
                .map(|t| {
                    let mut t = t.clone();
                    t.days.iter_mut().for_each(|d| d.frozen = false);
                    t
                })
                .collect(),
            sites: unit
                .iter()
                .map(|&s| {
                    let mut site = inst.sites[s].clone();
                    site.pin = None;
                    site.previous = None;
                    site
                })
                .collect(),
        };
        let plan = Plan {
            routes: unit
                .iter()
                .zip(&chain)
                .map(|(&s, &r)| PlanRoute {
                    team: p.team_ids[p.routes[r].team].clone(),
                    day: p.routes[r].day.clone(),
                    stops: vec![PlanStop {
                        site: inst.sites[s].id.clone(),
                        arrive: String::new(),
                        start: String::new(),
                        end: String::new(),
                    }],
                })
                .collect(),
        };
        Problem::from_instance(&mini)
            .is_ok_and(|problem| super::check::evaluate(&mini, &problem, &plan).feasible)
    });
    if !fits_empty_chain {
        return Why::NoConsecutiveDays {
            parts: unit.len() as u32,
        };
    }
    Why::CrowdedOut {
        priority: unit.iter().map(|&s| p.prize[s]).sum::<i64>() as f64 / 1000.0,
        displaced_priority: None,
    }
}

/// A visit that fits an empty day: confirm with the checker that no position of any open route
/// takes it in this plan, and find the cheapest single visit whose removal would make room.
fn crowded_out(
    p: &Problem,
    inst: &super::problem::Instance,
    sol: &Sol,
    s: usize,
    routes: &[usize],
) -> Why {
    let mut cheapest: Option<i64> = None;
    for &r in routes {
        let (team, day) = (&p.team_ids[p.routes[r].team], &p.routes[r].day);
        let stops = &sol.routes[r].stops;
        let fits_with = |stops: &[usize]| {
            (0..=stops.len()).any(|pos| {
                let mut order = stops.to_vec();
                order.insert(pos, s);
                checker_accepts_changed(inst, team, day, &order, None, Trial::AsIs)
            })
        };
        if fits_with(stops) {
            // The search left room (it should not): say so rather than claim a displacement.
            return Why::Overlooked;
        }
        for &victim in stops {
            if p.pinned[victim].is_some() {
                continue;
            }
            let unit_prize: i64 = p.unit(victim).iter().map(|&x| p.prize[x]).sum();
            if cheapest.is_some_and(|c| unit_prize >= c) {
                continue;
            }
            let rest: Vec<usize> = stops.iter().copied().filter(|&x| x != victim).collect();
            if fits_with(&rest) {
                cheapest = Some(unit_prize);
            }
        }
    }
    Why::CrowdedOut {
        priority: p.prize[s] as f64 / 1000.0,
        displaced_priority: cheapest.map(|c| c as f64 / 1000.0),
    }
}
