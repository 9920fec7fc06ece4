//! Scoring every site: coverage resolved per region once, deliveries since each figure,
//! one person's worth in the judged kabupaten/kota, and the caps that keep a region's sites from
//! promising more people than the region has.

use super::*;
use judge::{Judged, judge};

mod judge;
use crate::domain::coverage::TargetBasis;

/// Coverage resolved per (region, indicator): a region's own latest snapshot, else the sum of
/// its children's (recursively), dated by the newest of them.
pub(super) struct Resolver<'a> {
    facts: &'a Facts,
    year: i32,
    rollups: HashMap<(String, String), Option<(Coverage, NaiveDate)>>,
}

impl Resolver<'_> {
    pub(super) fn rollup(
        &mut self,
        region: &str,
        indicator: &str,
    ) -> Option<(Coverage, NaiveDate)> {
        let key = (region.to_string(), indicator.to_string());
        if let Some(r) = self.rollups.get(&key) {
            return *r;
        }
        let result = match self.facts.coverage.get(&key) {
            Some(own) => Some(*own),
            None => {
                let children = self.facts.children.get(region).cloned().unwrap_or_default();
                let parts: Vec<_> = children
                    .iter()
                    .filter_map(|c| self.rollup(c, indicator))
                    .collect();
                (!parts.is_empty()).then(|| {
                    let date = parts.iter().map(|p| p.1).max().expect("non-empty");
                    (parts.iter().map(|p| p.0).sum(), date)
                })
            }
        };
        self.rollups.insert(key, result);
        result
    }

    /// The finest region in `region`'s lineage with coverage: its own snapshot first, else a
    /// roll-up of snapshots below it.
    fn finest(
        &mut self,
        region: &RegionCode,
        indicator: &str,
    ) -> Option<(String, Coverage, NaiveDate)> {
        let lineage = region.lineage();
        let own = lineage.iter().find_map(|code| {
            self.facts
                .coverage
                .get(&(code.to_string(), indicator.to_string()))
                .map(|(c, d)| (code.to_string(), *c, *d))
        });
        own.or_else(|| {
            lineage.iter().find_map(|code| {
                self.rollup(code.as_str(), indicator)
                    .map(|(c, d)| (code.to_string(), c, d))
            })
        })
    }

    /// The target for `region` (its finest override, else national), latest year up to the
    /// reference year.
    pub(super) fn target(
        &self,
        region: &RegionCode,
        indicator: &str,
    ) -> Option<(f64, TargetBasis)> {
        let lineage = region.lineage();
        let mut scopes: Vec<Option<&RegionCode>> = lineage.iter().map(Some).collect();
        scopes.push(None);
        scopes.iter().find_map(|scope| {
            self.facts
                .targets
                .iter()
                .filter(|t| {
                    t.indicator == indicator && t.year <= self.year && t.region.as_ref() == *scope
                })
                .max_by_key(|t| t.year)
                .map(|t| (t.percent, t.basis))
        })
    }
}

/// A region code and the codes above it, finest first, as slices of the code itself:
/// "35.09.01.2001", "35.09.01", "35.09", "35".
pub(super) fn prefixes(code: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(code), |c| c.rfind('.').map(|i| &c[..i]))
}

/// The region codes of one ranking, numbered, so that the per-region bookkeeping of tens of
/// thousands of sites works on small integers rather than strings.
#[derive(Default)]
pub(super) struct Codes<'a> {
    ids: HashMap<&'a str, u32>,
    codes: Vec<&'a str>,
    /// The same codes as shared strings, for the terms that name them.
    shared: Vec<Arc<str>>,
    /// Dots in the code: 0 province, 1 kabupaten/kota, 2 kecamatan, 3 desa.
    depth: Vec<u8>,
}

impl<'a> Codes<'a> {
    fn id(&mut self, code: &'a str) -> u32 {
        if let Some(&id) = self.ids.get(code) {
            return id;
        }
        let id = self.codes.len() as u32;
        self.ids.insert(code, id);
        self.codes.push(code);
        self.shared.push(Arc::from(code));
        self.depth
            .push(code.bytes().filter(|b| *b == b'.').count() as u8);
        id
    }
}

impl Codes<'_> {
    fn shared(&self, id: u32) -> Arc<str> {
        self.shared[id as usize].clone()
    }
}

/// The indicators a site can serve (see [`served`]), numbered for per-region tables.
pub(super) const INDICATORS: [&str; 4] = ["ktp_el", "kia", "akta_lahir", "ikd"];

pub(super) fn indicator_index(indicator: &str) -> Option<usize> {
    INDICATORS.iter().position(|i| *i == indicator)
}

/// One value per (region, indicator), indexed by the region's number.
pub(super) struct PerRegion<T> {
    cells: Vec<T>,
}

impl<T: Default + Clone> PerRegion<T> {
    fn new(regions: usize) -> Self {
        PerRegion {
            cells: vec![T::default(); regions * INDICATORS.len()],
        }
    }

    fn at(&mut self, region: u32, indicator: usize) -> &mut T {
        &mut self.cells[region as usize * INDICATORS.len() + indicator]
    }

    fn get(&self, region: u32, indicator: usize) -> &T {
        &self.cells[region as usize * INDICATORS.len() + indicator]
    }
}

/// What visits delivered per (region, indicator) for every region above a visited site.
pub(super) type Deliveries = PerRegion<Vec<(NaiveDate, i64)>>;

pub(super) fn delivered_in(
    deliveries: &Deliveries,
    region: u32,
    indicator: usize,
    after: NaiveDate,
) -> i64 {
    deliveries
        .get(region, indicator)
        .iter()
        .filter(|(d, _)| *d > after)
        .map(|(_, n)| n)
        .sum()
}

/// The finest coverage figure for a (region, indicator): its region's number, the figure and its
/// date; `None` inside until worked out.
pub(super) type Finest = Option<Option<(u32, Coverage, NaiveDate)>>;

pub fn score_all(sites: &[Site], facts: &Facts, params: &Params, on: NaiveDate) -> Vec<Scored> {
    use chrono::Datelike;
    let mut resolver = Resolver {
        facts,
        year: on.year(),
        rollups: HashMap::new(),
    };
    let mut codes = Codes::default();
    // Each site's region and the regions above it, by number, finest first.
    let lineage: Vec<Vec<u32>> = sites
        .iter()
        .map(|s| prefixes(s.region.as_str()).map(|c| codes.id(c)).collect())
        .collect();
    let n_codes = codes.codes.len();
    let (visits_by_site, last_in_region, deliveries) =
        index_visits(sites, facts, &lineage, n_codes, on);
    // Worked out once per (region, indicator): the finest coverage figure, and what one person
    // is worth in the judged region.
    let mut finest: PerRegion<Finest> = PerRegion::new(n_codes);
    let mut judged: PerRegion<Option<Judged>> = PerRegion::new(n_codes);
    let mut scored: Vec<Scored> = Vec::with_capacity(sites.len());
    for (si, site) in sites.iter().enumerate() {
        let site_visits = visits_by_site
            .get(&site.id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let turnout = params.turnout.get(site.kind.as_str()).copied();
        let turnout = turnout.unwrap_or(1.0);
        let vulnerability = vulnerability(params, site.kind);
        let judged_id = judged_region(&codes, &lineage[si]);
        let judged_code = codes.codes[judged_id as usize];
        let mut terms = Vec::new();
        for &indicator in served(site.kind) {
            let eligible = site.eligible.get(indicator).copied().unwrap_or(0);
            let count = site.counts.get(indicator).copied();
            if eligible <= 0 && count.is_none() {
                continue;
            }
            let ind = indicator_index(indicator).expect("served indicators are numbered");
            let delivered_since = |after: Option<NaiveDate>| -> i64 {
                site_visits
                    .iter()
                    .filter(|v| after.is_none_or(|d| v.date > d))
                    .filter_map(|v| v.delivered.get(indicator))
                    .sum()
            };
            let coverage = *finest
                .at(lineage[si][0], ind)
                .get_or_insert_with(|| finest_of(&mut resolver, site, &lineage[si], indicator));
            let percent = coverage
                .as_ref()
                .and_then(|(_, c, _)| c.percent())
                .map(|p| p.min(100.0));
            let as_of = coverage.as_ref().map(|(_, _, d)| *d);
            let age = as_of.map(|d| (on - d).num_days());
            // Uncovered ÷ eligible of the figure (not 1 − percent: the people are counts).
            let share_of = |people: f64| {
                coverage
                    .as_ref()
                    .filter(|(_, c, _)| c.eligible > 0)
                    .map(|(_, c, _)| people * c.uncovered() as f64 / c.eligible as f64)
                    .unwrap_or(0.0)
            };
            let uncovered_share = share_of(1.0);
            // A site's own count minus what was delivered since; else the region's uncovered
            // share of its eligible people, at the kind's turnout; else nothing is claimed.
            let (basis, delivered, expected_people) = match count {
                Some(n) => {
                    let delivered = delivered_since(site.counts_as_of);
                    (Basis::Count, delivered, (n - delivered).max(0) as f64)
                }
                None if coverage.is_some() => {
                    let delivered = delivered_since(as_of);
                    let raw = share_of(eligible as f64) * turnout;
                    let left = (raw - delivered as f64).max(0.0);
                    (Basis::Estimate, delivered, left)
                }
                None => (Basis::NoData, 0, 0.0),
            };
            let j = *judged.at(judged_id, ind).get_or_insert_with(|| {
                judge(&mut resolver, judged_code, indicator, params, |after| {
                    delivered_in(&deliveries, judged_id, ind, after)
                })
            });
            let (urgency, deadlines) = urgency(params, indicator, site.kind.as_str(), on);
            let indicator_weight = params
                .indicator_weights
                .get(indicator)
                .copied()
                .unwrap_or(1.0);
            terms.push(Term {
                indicator,
                eligible,
                basis,
                count,
                count_as_of: count.and(site.counts_as_of),
                coverage_region: coverage.as_ref().map(|(r, _, _)| codes.shared(*r)),
                coverage_percent: percent,
                coverage_as_of: as_of,
                coverage_age_days: age,
                coverage_old: age.is_some_and(|a| a > params.coverage_max_age_days),
                uncovered_share,
                turnout: Some(turnout)
                    .filter(|_| basis == Basis::Estimate)
                    .unwrap_or(1.0),
                region_cap: 1.0,
                delivered,
                expected_people,
                judged_region: Some(codes.shared(judged_id)),
                judged_percent: j.percent,
                target_percent: j.target,
                target_basis: j.basis.as_str(),
                gap_points: j.gap_points,
                shortfall: j.shortfall,
                value_per_person: j.value_per_person,
                indicator_weight,
                urgency,
                deadlines,
                vulnerability,
                value: 0.0,
            });
        }
        let (days_since_visit, recency) = recency(params, site_visits, on);
        let (weeks_since_desa_visit, fairness) =
            fairness(params, last_in_region.get(&lineage[si][0]).copied(), on);
        scored.push(Scored {
            site_id: site.id,
            external_id: site.external_id.clone(),
            score: 0.0,
            terms,
            recency,
            fairness,
            days_since_visit,
            weeks_since_desa_visit,
        });
    }
    cap_to_regions(
        sites,
        &lineage,
        &codes,
        &mut scored,
        &mut resolver,
        &deliveries,
    );
    for s in &mut scored {
        s.value_terms();
    }
    scored
}

impl Scored {
    /// Each term's value and the score, once the people are capped to their regions.
    fn value_terms(&mut self) {
        for t in &mut self.terms {
            t.value = t.expected_people
                * t.value_per_person
                * t.indicator_weight
                * t.urgency
                * t.vulnerability;
        }
        self.score = recombine(&self.terms, self.recency, self.fairness);
    }
}

/// Visits up to the reference day: per site, the last one per desa (for fairness) and the
/// deliveries per region and indicator.
#[allow(clippy::type_complexity)]
fn index_visits<'f>(
    sites: &[Site],
    facts: &'f Facts,
    lineage: &[Vec<u32>],
    n_codes: usize,
    on: NaiveDate,
) -> (
    HashMap<i64, Vec<&'f Visit>>,
    HashMap<u32, NaiveDate>,
    Deliveries,
) {
    let index_of: HashMap<i64, usize> = sites.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let mut visits_by_site: HashMap<i64, Vec<&Visit>> = HashMap::new();
    let mut last_in_region: HashMap<u32, NaiveDate> = HashMap::new();
    let mut deliveries: Deliveries = PerRegion::new(n_codes);
    for v in facts.visits.iter().filter(|v| v.date <= on) {
        visits_by_site.entry(v.site_id).or_default().push(v);
        let Some(&i) = index_of.get(&v.site_id) else {
            continue;
        };
        let e = last_in_region.entry(lineage[i][0]).or_insert(v.date);
        *e = (*e).max(v.date);
        for (indicator, n) in &v.delivered {
            let Some(ind) = indicator_index(indicator) else {
                continue;
            };
            for &region in &lineage[i] {
                deliveries.at(region, ind).push((v.date, *n));
            }
        }
    }
    (visits_by_site, last_in_region, deliveries)
}

/// The finest coverage figure for the site's region and an indicator, with the number of the
/// region it belongs to (one of the site's lineage).
fn finest_of(
    resolver: &mut Resolver<'_>,
    site: &Site,
    lineage: &[u32],
    indicator: &str,
) -> Option<(u32, Coverage, NaiveDate)> {
    resolver
        .finest(&site.region, indicator)
        .map(|(code, c, d)| {
            let id = prefixes(site.region.as_str())
                .zip(lineage)
                .find(|(p, _)| *p == code)
                .map(|(_, id)| *id)
                .unwrap_or(lineage[0]);
            (id, c, d)
        })
}

/// The weight of a vulnerable population's site (SLB, institutions), else 1.
fn vulnerability(params: &Params, kind: SiteKind) -> f64 {
    if is_vulnerable(kind) {
        params.vulnerability_weight
    } else {
        1.0
    }
}

/// The kabupaten/kota above a site (the office's unit), else the coarsest region it lies in.
fn judged_region(codes: &Codes<'_>, lineage: &[u32]) -> u32 {
    lineage
        .iter()
        .copied()
        .find(|&id| codes.depth[id as usize] == 1)
        .unwrap_or(lineage[lineage.len() - 1])
}

/// The urgency of an indicator at a kind of site on a day (1 plus the boosts of the deadlines
/// within their horizon), and the names of those deadlines.
fn urgency(params: &Params, indicator: &str, kind: &str, on: NaiveDate) -> (f64, Vec<String>) {
    let mut urgency = 1.0;
    let mut deadlines = Vec::new();
    for d in &params.deadlines {
        let applies = (d.indicators.is_empty() || d.indicators.iter().any(|i| i == indicator))
            && (d.kinds.is_empty() || d.kinds.iter().any(|k| k == kind));
        let days_left = (d.date - on).num_days();
        if applies && (0..=i64::from(d.horizon_days)).contains(&days_left) {
            urgency += d.boost * (1.0 - days_left as f64 / f64::from(d.horizon_days));
            deadlines.push(d.name.clone());
        }
    }
    (urgency, deadlines)
}

/// Days since the site's last full visit, and the penalty that fades with them (1 = none).
fn recency(params: &Params, site_visits: &[&Visit], on: NaiveDate) -> (Option<i64>, f64) {
    let last_visit = site_visits
        .iter()
        .filter(|v| !v.revisit)
        .map(|v| v.date)
        .max();
    let days_since_visit = last_visit.map(|d| (on - d).num_days());
    let recency = days_since_visit
        .map(|d| 1.0 - params.recency_max_penalty * (-(d as f64) / params.recency_tau_days).exp())
        .unwrap_or(1.0);
    (days_since_visit, recency)
}

/// Weeks since any visit in the site's desa, and the boost that grows with them (full when the
/// desa was never visited).
fn fairness(params: &Params, last_in_desa: Option<NaiveDate>, on: NaiveDate) -> (Option<f64>, f64) {
    let weeks = last_in_desa.map(|d| (on - d).num_days() as f64 / 7.0);
    let fairness = 1.0
        + params.fairness_max_boost
            * weeks
                .map(|w| (w / params.fairness_weeks).min(1.0))
                .unwrap_or(1.0);
    (weeks, fairness)
}

/// Scale estimates down, finest region first, wherever a region's sites would claim more
/// people than the region has uncovered (less what was delivered there since its figure and
/// what the sites with their own counts claim).
pub(super) fn cap_to_regions(
    sites: &[Site],
    lineage: &[Vec<u32>],
    codes: &Codes<'_>,
    scored: &mut [Scored],
    resolver: &mut Resolver<'_>,
    deliveries: &Deliveries,
) {
    // (region, indicator) → the (site, term) estimates and the own counts inside it.
    let mut members: PerRegion<(Vec<(u32, u8)>, f64)> = PerRegion::new(codes.codes.len());
    for (si, s) in scored.iter().enumerate() {
        for (ti, t) in s.terms.iter().enumerate() {
            let Some(ind) = indicator_index(t.indicator) else {
                continue;
            };
            for &region in &lineage[si] {
                let entry = members.at(region, ind);
                match t.basis {
                    Basis::Estimate => entry.0.push((si as u32, ti as u8)),
                    Basis::Count => entry.1 += t.expected_people,
                    Basis::NoData => {}
                }
            }
        }
    }
    // Deepest regions first; sums run in external-id order, so the result never depends on the
    // order the sites came in.
    let mut by_external_id: Vec<u32> = (0..sites.len() as u32).collect();
    by_external_id.sort_by(|a, b| {
        sites[*a as usize]
            .external_id
            .cmp(&sites[*b as usize].external_id)
    });
    let mut place = vec![0u32; sites.len()];
    for (rank, &si) in by_external_id.iter().enumerate() {
        place[si as usize] = rank as u32;
    }
    let mut regions: Vec<u32> = (0..codes.codes.len() as u32).collect();
    regions.sort_by(|a, b| {
        codes.depth[*b as usize]
            .cmp(&codes.depth[*a as usize])
            .then_with(|| codes.codes[*a as usize].cmp(codes.codes[*b as usize]))
    });
    for region in regions {
        for (ind, indicator) in INDICATORS.iter().enumerate() {
            let (mut estimates, counted) = std::mem::take(members.at(region, ind));
            if estimates.is_empty() {
                continue;
            }
            let Some((coverage, as_of)) = resolver.rollup(codes.codes[region as usize], indicator)
            else {
                continue;
            };
            estimates.sort_by_key(|(si, _)| place[*si as usize]);
            let delivered = delivered_in(deliveries, region, ind, as_of);
            let pool = ((coverage.uncovered() - delivered).max(0) as f64 - counted).max(0.0);
            let claimed: f64 = estimates
                .iter()
                .map(|&(si, ti)| scored[si as usize].terms[ti as usize].expected_people)
                .sum();
            if claimed > pool {
                let factor = if claimed > 0.0 { pool / claimed } else { 0.0 };
                for (si, ti) in estimates {
                    let t = &mut scored[si as usize].terms[ti as usize];
                    t.expected_people *= factor;
                    t.region_cap *= factor;
                }
            }
        }
    }
}
