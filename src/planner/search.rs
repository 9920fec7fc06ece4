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
    /// Ticks per epoch; default a quarter of a second's worth.
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
            dep = st + p.service[s];
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
            let Some(bound) = latest_next.checked_sub(p.t(node, next) + p.service[s]) else {
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
                (p.site_node(s), route.start[pos - 1] + p.service[s])
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
            if st + p.service[site] + from > latest_next {
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
                dep = start + p.service[s];
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
    for s in order {
        let r = p.pinned[s].expect("filtered on pins");
        if !p.eligible[s].contains(&r) {
            conflicts.push(s);
            continue;
        }
        match sol.best_in_route(p, s, r, ticks) {
            Some((pos, _)) => sol.insert(p, s, r, pos),
            None => {
                if !sol.insert_by_enumeration(p, s, r, ticks) {
                    conflicts.push(s);
                }
            }
        }
    }
    // The previous plan's routes in their old order where that order still works; otherwise
    // each visit at its cheapest place in its old route.
    let mut warm: Vec<usize> = (0..p.n_sites())
        .filter(|&s| {
            p.pinned[s].is_none() && p.previous[s].is_some_and(|r| p.eligible[s].contains(&r))
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
    (sol, conflicts)
}

/// Parallel cheapest-density construction from `sol`: repeatedly insert the unserved site with
/// the best prize per second (added travel + service) over all team-days, with a per-(site,
/// route) cache that only the changed route's column invalidates.
fn construct(p: &Problem, mut sol: Sol, ticks: &mut u64) -> Sol {
    let n_routes = p.routes.len();
    let mut cache: Vec<Option<(usize, u32)>> = vec![None; p.n_sites() * n_routes];
    let mut open: Vec<usize> = (0..p.n_sites())
        .filter(|&s| !p.eligible[s].is_empty() && p.prize[s] > 0 && sol.route_of[s].is_none())
        .collect();
    for &s in &open {
        for &r in &p.eligible[s] {
            cache[s * n_routes + r] = sol.best_in_route(p, s, r, ticks);
        }
    }
    loop {
        let mut best: Option<(f64, usize, usize, usize)> = None;
        for &s in &open {
            for &r in &p.eligible[s] {
                if let Some((pos, delta)) = cache[s * n_routes + r] {
                    let density = p.prize[s] as f64 / f64::from(delta + p.service[s] + 1);
                    if best.is_none_or(|(d, bs, _, _)| density > d || (density == d && s < bs)) {
                        best = Some((density, s, r, pos));
                    }
                }
            }
        }
        let Some((_, s, r, pos)) = best else { break };
        sol.insert(p, s, r, pos);
        open.retain(|&x| x != s);
        for &o in &open {
            if !p.windows(o, r).is_empty() {
                cache[o * n_routes + r] = sol.best_in_route(p, o, r, ticks);
            }
        }
    }
    sol
}

/// k nearest sites of every site (by travel), for related removal and candidate lists.
fn neighbours(p: &Problem, k: usize) -> Vec<Vec<usize>> {
    let n = p.n_sites();
    (0..n)
        .map(|i| {
            let mut others: Vec<(u32, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (p.t(p.site_node(i), p.site_node(j)), j))
                .collect();
            let k = k.min(others.len());
            if k < others.len() {
                others.select_nth_unstable(k);
                others.truncate(k);
            }
            others.sort_unstable();
            others.into_iter().map(|(_, j)| j).collect()
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
                    if cand.route_of[s].is_some() && cand.remove(p, s) {
                        removed.push(s);
                    }
                }
            }
            6..=7 => {
                let nonempty: Vec<usize> = (0..p.routes.len())
                    .filter(|&r| !cand.routes[r].stops.is_empty())
                    .collect();
                let r = nonempty[rng.below(nonempty.len())];
                for s in cand.routes[r].stops.clone() {
                    if cand.remove(p, s) {
                        removed.push(s);
                    }
                }
            }
            _ => {
                let k = 1 + rng.below(4);
                for _ in 0..k {
                    let s = served[rng.below(served.len())];
                    if cand.route_of[s].is_some() && cand.remove(p, s) {
                        removed.push(s);
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
        candidates.sort_unstable();
        candidates.dedup();
        candidates.retain(|&s| !p.eligible[s].is_empty() && p.prize[s] > 0);
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
            if let Some((r, pos, _)) = cand.best_insertion(p, s, &mut self.ticks) {
                cand.insert(p, s, r, pos);
            }
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
    let epoch = options.epoch_ticks.unwrap_or(TICKS_PER_SECOND / 4).max(1);
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
            p.prize[s] as f64 / f64::from(p.service[s] + trip + 1)
        })
        .collect();
    let mut pool: Vec<usize> = (0..p.n_sites())
        .filter(|&s| !p.eligible[s].is_empty() && p.prize[s] > 0)
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
    let best = &team[lead].best;
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

/// Why a site with a positive prize is not in the plan.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Why {
    /// Open on no day and hour any allowed team works.
    NoWindow,
    /// Open when a team works, but base → site → base does not fit in any such day.
    TooFar,
    /// It fits an empty day, but every day is full: the cheapest single visit it could replace
    /// has this priority (`None`: it would need more than one visit removed).
    CrowdedOut { displaced_priority: Option<f64> },
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

/// Explain each of `sites` (instance indices) that the plan leaves out.
pub fn why_unserved(
    p: &Problem,
    inst: &super::problem::Instance,
    plan: &Plan,
    sites: &[usize],
) -> Vec<(usize, Why)> {
    let Some(sol) = sol_from_plan(p, plan) else {
        return Vec::new();
    };
    let mut ticks = 0;
    sites
        .iter()
        .filter(|&&s| sol.route_of[s].is_none())
        .map(|&s| {
            if p.eligible[s].is_empty() {
                // Is there any overlap of the site's windows with an allowed team's hours at all?
                let site = &inst.sites[s];
                let service = p.service[s];
                let open_somewhere = p.routes.iter().any(|r| {
                    let team_ok = site
                        .teams
                        .as_ref()
                        .is_none_or(|t| t.contains(&p.team_ids[r.team]));
                    let windows: Vec<(u32, u32)> = match &site.windows {
                        None => vec![(r.start, r.end)],
                        Some(w) if w.is_empty() => vec![(r.start, r.end)],
                        Some(w) => w
                            .iter()
                            .filter(|w| w.day == r.day)
                            .filter_map(|w| {
                                Some((
                                    super::problem::parse_hms(&w.open).ok()?,
                                    super::problem::parse_hms(&w.close).ok()?,
                                ))
                            })
                            .collect(),
                    };
                    team_ok
                        && windows
                            .iter()
                            .any(|(o, c)| (*o).max(r.start) + service <= (*c).min(r.end))
                });
                return (
                    s,
                    if open_somewhere {
                        Why::TooFar
                    } else {
                        Why::NoWindow
                    },
                );
            }
            let mut cheapest: Option<i64> = None;
            for &r in &p.eligible[s] {
                if sol.best_in_route(p, s, r, &mut ticks).is_some() {
                    // It fits as is: the search missed it (should not happen at a local optimum).
                    cheapest = Some(0);
                    continue;
                }
                for &victim in &sol.routes[r].stops {
                    let mut trial = sol.clone();
                    if trial.remove(p, victim)
                        && trial.best_in_route(p, s, r, &mut ticks).is_some()
                        && cheapest.is_none_or(|c| p.prize[victim] < c)
                    {
                        cheapest = Some(p.prize[victim]);
                    }
                }
            }
            (
                s,
                Why::CrowdedOut {
                    displaced_priority: cheapest.map(|c| c as f64 / 1000.0),
                },
            )
        })
        .collect()
}
