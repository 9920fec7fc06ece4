use super::*;
use proptest::prelude::*;

const DESA: [&str; 4] = [
    "35.09.01.2001",
    "35.09.01.2002",
    "35.09.02.2001",
    "35.09.02.1001",
];
const KINDS: [SiteKind; 8] = [
    SiteKind::Sma,
    SiteKind::Smk,
    SiteKind::Sd,
    SiteKind::Paud,
    SiteKind::BalaiDesa,
    SiteKind::Slb,
    SiteKind::Institusi,
    SiteKind::Keramaian,
];
const INDICATORS: [&str; 4] = ["ktp_el", "kia", "akta_lahir", "ikd"];

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn params() -> Params {
    Params {
        indicator_weights: BTreeMap::from([("ktp_el".into(), 2.0), ("ikd".into(), 0.5)]),
        cohort_min_uncovered: BTreeMap::from([("ktp_el".into(), 0.5), ("kia".into(), 0.3)]),
        turnout: BTreeMap::from([("balai_desa".into(), 0.02), ("keramaian".into(), 0.01)]),
        vulnerability_weight: 1.5,
        recency_max_penalty: 0.9,
        recency_tau_days: 30.0,
        fairness_weeks: 8.0,
        fairness_max_boost: 0.25,
        deadlines: vec![Deadline {
            name: "akhir semester".into(),
            date: day("2026-12-18"),
            indicators: vec!["ktp_el".into()],
            kinds: vec!["sma".into(), "smk".into()],
            horizon_days: 60,
            boost: 0.5,
        }],
    }
}

fn tree() -> (HashMap<String, String>, HashMap<String, Vec<String>>) {
    let names = HashMap::from([
        ("35".to_string(), "Jawa Timur".to_string()),
        ("35.09".into(), "Kabupaten Jember".into()),
        ("35.09.01".into(), "Jombang".into()),
        ("35.09.02".into(), "Kencong".into()),
        (DESA[0].into(), "Keting".into()),
        (DESA[1].into(), "Sarimulyo".into()),
        (DESA[2].into(), "Kencong".into()),
        (DESA[3].into(), "Kelurahan Uji".into()),
    ]);
    let children = HashMap::from([
        ("35".to_string(), vec!["35.09".to_string()]),
        ("35.09".into(), vec!["35.09.01".into(), "35.09.02".into()]),
        ("35.09.01".into(), vec![DESA[0].into(), DESA[1].into()]),
        ("35.09.02".into(), vec![DESA[2].into(), DESA[3].into()]),
    ]);
    (names, children)
}

prop_compose! {
    fn arb_site(id: i64)(kind in 0..KINDS.len(), desa in 0..DESA.len(),
                         eligible in proptest::collection::vec(0i64..400, 4)) -> Site {
        Site {
            id,
            external_id: format!("S{id:04}"),
            name: format!("Situs {id}"),
            kind: KINDS[kind],
            region: RegionCode::parse(DESA[desa]).unwrap(),
            eligible: INDICATORS.iter().zip(eligible).map(|(i, n)| (i.to_string(), n)).collect(),
        }
    }
}

fn arb_sites() -> impl Strategy<Value = Vec<Site>> {
    (1usize..25).prop_flat_map(|n| (0..n).map(|i| arb_site(i as i64 + 1)).collect::<Vec<_>>())
}

prop_compose! {
    /// Coverage at both kecamatan (and for some indicators at one desa), targets, visits.
    fn arb_facts(n_sites: usize)(
        cov in proptest::collection::vec((1_000i64..100_000, 0.0f64..1.0), 8),
        desa_cov in proptest::collection::vec((100i64..5_000, 0.0f64..1.0), 4),
        targets in proptest::collection::vec(40.0f64..100.0, 4),
        visits in proptest::collection::vec((1..=n_sites.max(1) as i64, 1i64..200, 0i64..50), 0..6),
    ) -> Facts {
        let (region_names, children) = tree();
        let mut coverage = HashMap::new();
        for (k, kec) in ["35.09.01", "35.09.02"].iter().enumerate() {
            for (i, ind) in INDICATORS.iter().enumerate() {
                let (eligible, share) = cov[k * 4 + i];
                let c = Coverage { eligible, holders: (eligible as f64 * share) as i64 };
                coverage.insert((kec.to_string(), ind.to_string()), (c, day("2026-06-30")));
            }
        }
        for (i, ind) in INDICATORS.iter().enumerate() {
            let (eligible, share) = desa_cov[i];
            if i % 2 == 0 {
                let c = Coverage { eligible, holders: (eligible as f64 * share) as i64 };
                coverage.insert((DESA[0].to_string(), ind.to_string()), (c, day("2026-06-30")));
            }
        }
        let targets = INDICATORS.iter().zip(targets)
            .map(|(i, p)| Target { indicator: i.to_string(), year: 2026, region: None, percent: p })
            .collect();
        let visits = visits.into_iter().map(|(site_id, days_ago, delivered)| Visit {
            site_id,
            date: day("2026-11-23") - chrono::Duration::days(days_ago),
            delivered: BTreeMap::from([("kia".to_string(), delivered), ("ktp_el".to_string(), delivered)]),
            revisit: false,
        }).collect();
        Facts { region_names, children, coverage, targets, visits }
    }
}

fn world() -> impl Strategy<Value = (Vec<Site>, Facts)> {
    arb_sites().prop_flat_map(|sites| {
        let n = sites.len();
        (Just(sites), arb_facts(n))
    })
}

fn on() -> NaiveDate {
    day("2026-11-23") // Monday of 2026-W48
}

fn by_id(scored: &[Scored]) -> HashMap<i64, f64> {
    scored.iter().map(|s| (s.site_id, s.score)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lowering_a_regions_coverage_never_lowers_a_score(
        (sites, facts) in world(),
        which in 0usize..12,
        cut in 0.0f64..1.0,
    ) {
        let before = by_id(&rank(&sites, &facts, &params(), on()));
        let mut lowered = facts.clone();
        let mut keys: Vec<_> = lowered.coverage.keys().cloned().collect();
        keys.sort();
        let key = keys[which % keys.len()].clone();
        let entry = lowered.coverage.get_mut(&key).unwrap();
        entry.0.holders = (entry.0.holders as f64 * cut) as i64;
        let after = by_id(&rank(&sites, &lowered, &params(), on()));
        for (id, score) in before {
            prop_assert!(after[&id] >= score - 1e-9 * score.abs().max(1.0),
                "site {id}: {score} -> {} after lowering {key:?}", after[&id]);
        }
    }

    #[test]
    fn an_indicator_at_or_above_target_contributes_nothing((sites, facts) in world()) {
        for s in rank(&sites, &facts, &params(), on()) {
            for t in &s.terms {
                if let (Some(p), Some(target)) = (t.coverage_percent, t.target_percent)
                    && p >= target
                {
                    prop_assert_eq!(t.value, 0.0, "{} at {} of target {}", t.indicator, p, target);
                    prop_assert_eq!(t.gap_weight, 0.0);
                }
            }
        }
    }

    #[test]
    fn a_site_visited_yesterday_ranks_below_itself_unvisited(
        (sites, facts) in world(),
        pick in 0usize..25,
    ) {
        let site = sites[pick % sites.len()].clone();
        let mut unvisited = facts.clone();
        unvisited.visits.retain(|v| v.site_id != site.id);
        let before = by_id(&rank(&sites, &unvisited, &params(), on()))[&site.id];
        let mut visited = unvisited.clone();
        visited.visits.push(Visit { site_id: site.id, date: on() - chrono::Duration::days(1), delivered: BTreeMap::new(), revisit: false });
        let after = by_id(&rank(&sites, &visited, &params(), on()))[&site.id];
        if before > 0.0 {
            prop_assert!(after < before, "visited {after} vs unvisited {before}");
        } else {
            prop_assert_eq!(after, 0.0);
        }
    }

    #[test]
    fn the_ranking_does_not_depend_on_import_order(
        (sites, facts) in world(),
        seed in any::<u64>(),
    ) {
        let ranked: Vec<(String, f64)> = rank(&sites, &facts, &params(), on())
            .into_iter().map(|s| (s.external_id, s.score)).collect();
        // Re-import in another order: new ids, visits follow their site.
        let mut order: Vec<usize> = (0..sites.len()).collect();
        let mut state = seed;
        for i in (1..order.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (state >> 33) as usize % (i + 1));
        }
        let new_id = |old: i64| order.iter().position(|&o| sites[o].id == old).unwrap() as i64 + 100;
        let shuffled: Vec<Site> = order.iter().map(|&o| Site { id: new_id(sites[o].id), ..sites[o].clone() }).collect();
        let mut moved = facts.clone();
        for v in &mut moved.visits {
            v.site_id = new_id(v.site_id);
        }
        let reranked: Vec<(String, f64)> = rank(&shuffled, &moved, &params(), on())
            .into_iter().map(|s| (s.external_id, s.score)).collect();
        prop_assert_eq!(ranked, reranked);
    }

    #[test]
    fn the_factors_recombine_into_the_score((sites, facts) in world()) {
        for s in rank(&sites, &facts, &params(), on()) {
            let sum: f64 = s.terms.iter()
                .map(|t| t.expected_people * t.gap_weight * t.indicator_weight * t.urgency * t.vulnerability)
                .sum();
            let rebuilt = sum * s.recency * s.fairness;
            prop_assert!((rebuilt - s.score).abs() <= 1e-9 * s.score.abs().max(1.0), "{rebuilt} vs {}", s.score);
            prop_assert_eq!(s.recombine(), s.score);
            prop_assert!(s.score.is_finite() && s.score >= 0.0);
        }
    }
}

#[test]
fn a_hand_computed_sma() {
    // SMA with 167 students at KTP-el age in Keting (desa 35.09.01.2001, no desa snapshot for
    // ktp_el), kecamatan Jombang at 98.6 % against 99.4 %.
    let (region_names, children) = tree();
    let facts = Facts {
        region_names: region_names.clone(),
        children,
        coverage: HashMap::from([(
            ("35.09.01".to_string(), "ktp_el".to_string()),
            (
                Coverage {
                    eligible: 100_000,
                    holders: 98_600,
                },
                day("2026-06-30"),
            ),
        )]),
        targets: vec![Target {
            indicator: "ktp_el".into(),
            year: 2025,
            region: None,
            percent: 99.4,
        }],
        visits: vec![Visit {
            site_id: 1,
            date: day("2026-07-26"),
            delivered: BTreeMap::from([("ktp_el".into(), 20)]),
            revisit: false,
        }],
    };
    let site = Site {
        id: 1,
        external_id: "20523843".into(),
        name: "SMAN 1 Jombang".into(),
        kind: SiteKind::Sma,
        region: RegionCode::parse(DESA[0]).unwrap(),
        eligible: BTreeMap::from([("ktp_el".into(), 167), ("ikd".into(), 167)]),
    };
    let mut p = params();
    p.deadlines.clear();
    let s = &rank(std::slice::from_ref(&site), &facts, &p, on())[0];
    let t = &s.terms[0];
    assert_eq!(t.indicator, "ktp_el");
    // uncovered share: max(1 - 0.986, cohort floor 0.5) = 0.5; 167 × 0.5 − 20 delivered = 63.5
    assert!((t.expected_people - 63.5).abs() < 1e-9);
    // gap weight (99.4 − 98.6) / (100 − 98.6) = 0.8 / 1.4
    assert!((t.gap_weight - 0.8 / 1.4).abs() < 1e-9);
    // ikd has no coverage and no target: it counts nothing
    assert_eq!(s.terms[1].value, 0.0);
    // 120 days since the visit: recency 1 − 0.9·e^(−4); the desa was visited 17 weeks ago: full boost
    assert_eq!(s.days_since_visit, Some(120));
    let expected = 63.5 * (0.8 / 1.4) * 2.0 * (1.0 - 0.9 * (-4.0f64).exp()) * 1.25;
    assert!(
        (s.score - expected).abs() < 1e-9,
        "{} vs {expected}",
        s.score
    );
    assert_eq!(
        explain(&site, s, &region_names, Language::Id),
        "SMAN 1 Jombang: sekitar 64 siswa belum rekam KTP-el; Jombang 0,8 poin di bawah target 99,4%; kunjungan terakhir 120 hari lalu."
    );
    assert_eq!(
        explain(&site, s, &region_names, Language::En),
        "SMAN 1 Jombang: about 64 students not yet recorded for KTP-el; Jombang 0.8 points below the 99.4% target; last visit 120 days ago."
    );
}

/// A `sebagian` (partly done) visit counts what it delivered but leaves the site a revisit
/// candidate: no recency penalty, unlike a completed visit on the same day.
#[test]
fn a_partial_visit_lowers_the_need_but_not_the_recency() {
    let (region_names, children) = tree();
    let facts = Facts {
        region_names,
        children,
        coverage: HashMap::from([(
            ("35.09.01".to_string(), "ktp_el".to_string()),
            (
                Coverage {
                    eligible: 100_000,
                    holders: 98_600,
                },
                day("2026-06-30"),
            ),
        )]),
        targets: vec![Target {
            indicator: "ktp_el".into(),
            year: 2025,
            region: None,
            percent: 99.4,
        }],
        visits: Vec::new(),
    };
    let site = &Site {
        id: 1,
        external_id: "20523843".into(),
        name: "SMAN 1 Jombang".into(),
        kind: SiteKind::Sma,
        region: RegionCode::parse(DESA[0]).unwrap(),
        eligible: BTreeMap::from([("ktp_el".into(), 200)]),
    };
    let mut p = params();
    p.deadlines.clear();
    let score = |visits: Vec<Visit>| {
        let mut f = facts.clone();
        f.visits = visits;
        rank(std::slice::from_ref(site), &f, &p, on())[0].clone()
    };
    let visit = |revisit| Visit {
        site_id: site.id,
        date: on() - chrono::Duration::days(3),
        delivered: BTreeMap::from([("ktp_el".to_string(), 30)]),
        revisit,
    };
    let none = score(vec![]);
    let partial = score(vec![visit(true)]);
    let done = score(vec![visit(false)]);
    let ktp = |s: &Scored| {
        s.terms
            .iter()
            .find(|t| t.indicator == "ktp_el")
            .unwrap()
            .expected_people
    };
    assert!((ktp(&none) - ktp(&partial) - 30.0).abs() < 1e-9);
    assert_eq!(ktp(&partial), ktp(&done));
    assert_eq!(partial.recency, 1.0);
    assert_eq!(partial.days_since_visit, None);
    assert!(done.recency < 0.2, "{}", done.recency);
    assert!(partial.score > done.score);
}

#[test]
fn iso_weeks_parse_to_their_monday() {
    assert_eq!(parse_iso_week("2026-W48").unwrap(), day("2026-11-23"));
    assert_eq!(parse_iso_week("2027-W01").unwrap(), day("2027-01-04"));
    assert!(parse_iso_week("2026-48").is_err());
    assert!(parse_iso_week("2026-W54").is_err());
    assert_eq!(next_week(day("2026-11-22")), "2026-W48");
}
