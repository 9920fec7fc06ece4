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
    /// Work budget; default `time_limit × TICKS_PER_SECOND`.
    pub max_ticks: Option<u64>,
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
}

impl Sol {
    fn empty(p: &Problem) -> Self {
        Sol {
            routes: vec![Route::default(); p.routes.len()],
            route_of: vec![None; p.n_sites()],
            prize: 0,
            travel: 0,
        }
    }

    /// Lexicographic: more prize, then less travel.
    fn better_than(&self, other: &Sol) -> bool {
        self.prize > other.prize || (self.prize == other.prize && self.travel < other.travel)
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
        self.route_of[site] = Some(r as u32);
        self.prize += p.prize[site];
        self.refresh(p, r);
    }

    /// Remove a served site; refused (false) if the shorter route would be infeasible, which a
    /// matrix rounded per leg can cause by a second.
    fn remove(&mut self, p: &Problem, site: usize) -> bool {
        let Some(r) = self.route_of[site] else {
            return false;
        };
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
        self.route_of[site] = None;
        self.prize -= p.prize[site];
        true
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

/// Parallel cheapest-density construction: repeatedly insert the unserved site with the best
/// prize per second (added travel + service) over all team-days, with a per-(site, route) cache
/// that only the changed route's column invalidates.
fn construct(p: &Problem, ticks: &mut u64) -> Sol {
    let mut sol = Sol::empty(p);
    let n_routes = p.routes.len();
    let mut cache: Vec<Option<(usize, u32)>> = vec![None; p.n_sites() * n_routes];
    let mut open: Vec<usize> = (0..p.n_sites())
        .filter(|&s| !p.eligible[s].is_empty() && p.prize[s] > 0)
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

pub fn solve(p: &Problem, options: &Options) -> Outcome {
    let started = Instant::now();
    let budget = options
        .max_ticks
        .unwrap_or((options.time_limit.as_secs_f64() * TICKS_PER_SECOND as f64) as u64);
    let safety = options.time_limit.mul_f64(0.95);
    let mut rng = Rng::new(options.seed);
    let mut ticks = 0u64;
    let mut current = construct(p, &mut ticks);
    let first_plan_ms = started.elapsed().as_secs_f64() * 1000.0;
    let neigh = neighbours(p, 30);
    // Unserved sites worth pulling in wherever they are: prize per second of service plus the
    // round trip from the nearest base.
    let mut pool: Vec<usize> = (0..p.n_sites())
        .filter(|&s| !p.eligible[s].is_empty() && p.prize[s] > 0)
        .collect();
    let density = |s: usize| {
        let trip = p.eligible[s]
            .iter()
            .map(|&r| 2 * p.t(p.routes[r].base, p.site_node(s)))
            .min()
            .unwrap_or(0);
        p.prize[s] as f64 / f64::from(p.service[s] + trip + 1)
    };
    pool.sort_by(|&a, &b| density(b).total_cmp(&density(a)).then(a.cmp(&b)));
    for r in 0..p.routes.len() {
        current.resequence(p, r, &mut ticks);
    }
    let mut best = current.clone();
    let mut iterations = 0u64;
    let mut since_best = 0u64;
    let mut cut_by_clock = false;
    let served_count = |s: &Sol| s.route_of.iter().filter(|r| r.is_some()).count();

    while ticks < budget && !pool.is_empty() {
        if iterations.is_multiple_of(32) && started.elapsed() >= safety {
            cut_by_clock = true;
            break;
        }
        iterations += 1;
        // Copying the state and scanning the sites cost about two insertion tests per site.
        ticks += 2 * p.n_sites() as u64;
        let mut cand = current.clone();
        // Ruin.
        let served: Vec<usize> = (0..p.n_sites())
            .filter(|&s| cand.route_of[s].is_some())
            .collect();
        let mut removed = Vec::new();
        if !served.is_empty() {
            match rng.below(10) {
                0..=5 => {
                    let seed_site = served[rng.below(served.len())];
                    let k = 1 + rng.below(8);
                    for s in std::iter::once(seed_site).chain(neigh[seed_site].iter().copied()) {
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
        }
        // Recreate: the removed sites, unserved neighbours of them, and the best of the pool.
        let mut candidates: Vec<usize> = removed.clone();
        for &s in &removed {
            candidates.extend(
                neigh[s]
                    .iter()
                    .take(10)
                    .copied()
                    .filter(|&x| cand.route_of[x].is_none()),
            );
        }
        let pool_sample = 20 + rng.below(30);
        candidates.extend(
            pool.iter()
                .copied()
                .filter(|&x| cand.route_of[x].is_none())
                .take(pool_sample),
        );
        candidates.sort_unstable();
        candidates.dedup();
        candidates.retain(|&s| !p.eligible[s].is_empty() && p.prize[s] > 0);
        match rng.below(3) {
            0 => candidates.sort_by(|&a, &b| p.prize[b].cmp(&p.prize[a]).then(a.cmp(&b))),
            1 => candidates.sort_by(|&a, &b| density(b).total_cmp(&density(a)).then(a.cmp(&b))),
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
            if let Some((r, pos, _)) = cand.best_insertion(p, s, &mut ticks) {
                cand.insert(p, s, r, pos);
            }
        }
        // Accept: better, or within a prize threshold that shrinks to zero over the run.
        let progress = ticks as f64 / budget.max(1) as f64;
        let tau = (0.003 * best.prize as f64 * (1.0 - progress)) as i64;
        if cand.better_than(&current)
            || cand.prize > current.prize - tau
            || (cand.prize == current.prize && cand.travel == current.travel)
        {
            current = cand;
        }
        if current.better_than(&best) {
            let mut polished = current.clone();
            for r in 0..p.routes.len() {
                polished.resequence(p, r, &mut ticks);
            }
            current = polished.clone();
            best = polished;
            since_best = 0;
        } else {
            since_best += 1;
            if since_best > 3_000 {
                current = best.clone();
                since_best = 0;
            }
        }
    }
    let plan = best.to_plan(p);
    let bound = upper_bound(p);
    let prize = best.prize as f64 / 1000.0;
    Outcome {
        plan,
        prize,
        travel_s: best.travel,
        visits: served_count(&best),
        upper_bound: bound,
        bound_share: if bound > 0.0 { prize / bound } else { 1.0 },
        iterations,
        ticks,
        first_plan_ms,
        runtime_ms: started.elapsed().as_secs_f64() * 1000.0,
        cut_by_clock,
    }
}
