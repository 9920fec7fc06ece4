use super::*;
use problem::{InstanceSite, InstanceTeam, Point, TeamDay, TeamDayRef, Window};
use proptest::prelude::*;
use std::time::Duration;

const DAYS: [&str; 3] = ["2026-11-23", "2026-11-24", "2026-11-25"];

fn hm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

prop_compose! {
    fn arb_site(i: usize)(
        lat in -8.4f64..-8.0, lon in 113.3f64..113.9,
        service in 5u32..150, priority in 0u32..100,
        windows in proptest::collection::vec((0usize..3, 420u32..780, 30u32..300), 0..3),
    ) -> InstanceSite {
        InstanceSite {
            id: format!("s{i}"), lat, lon, service_min: f64::from(service), priority: f64::from(priority),
            windows: if windows.is_empty() { None } else {
                Some(windows.into_iter().map(|(d, open, len)| Window {
                    day: DAYS[d].into(), open: hm(open), close: hm((open + len).min(1439)),
                }).collect())
            },
            teams: None,
            pin: None,
            previous: None,
            service_by_team: None,
            group: None,
            choice: None,
        }
    }
}

prop_compose! {
    fn arb_team(i: usize)(lat in -8.3f64..-8.1, lon in 113.4f64..113.8, days in 1usize..=3, start in 420u32..540, len in 240u32..540)
        -> InstanceTeam {
        InstanceTeam {
            id: format!("tim-{i}"),
            base: Point { lat, lon },
            days: DAYS[..days].iter().map(|d| TeamDay { day: d.to_string(), start: hm(start), end: hm((start + len).min(1439)), frozen: false }).collect(),
        }
    }
}

fn arb_instance() -> impl Strategy<Value = Instance> {
    (1usize..=3, 0usize..=30).prop_flat_map(|(teams, sites)| {
        (
            (0..teams).map(arb_team).collect::<Vec<_>>(),
            (0..sites).map(arb_site).collect::<Vec<_>>(),
        )
            .prop_map(|(teams, sites)| Instance {
                name: "prop".into(),
                speed_kmh: 30.0,
                road_factor: 1.3,
                teams,
                sites,
            })
    })
}

fn options(seed: u64) -> Options {
    // Small epochs so that two workers exchange their best several times within the budget.
    Options {
        max_ticks: Some(100_000),
        epoch_ticks: Some(20_000),
        ..Options::new(Duration::from_secs(30), seed)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_plan_passes_the_feasibility_checker(inst in arb_instance(), seed in 0u64..1000) {
        let p = Problem::from_instance(&inst).unwrap();
        let out = solve(&p, &options(seed));
        let check = evaluate(&inst, &p, &out.plan);
        prop_assert!(check.feasible, "{:?}", check.errors);
        prop_assert_eq!(check.visits, out.visits);
        prop_assert_eq!(check.travel_s, out.travel_s);
        prop_assert!((check.prize - out.prize).abs() < 1e-6);
        prop_assert!(out.prize <= out.upper_bound + 1e-6, "prize {} above bound {}", out.prize, out.upper_bound);
    }

    #[test]
    fn the_same_seed_gives_the_same_plan(inst in arb_instance(), seed in 0u64..1000, workers in 1usize..=2) {
        let p = Problem::from_instance(&inst).unwrap();
        let o = Options { workers, ..options(seed) };
        let a = solve(&p, &o);
        let b = solve(&p, &o);
        prop_assert_eq!(serde_json::to_string(&a.plan).unwrap(), serde_json::to_string(&b.plan).unwrap());
    }

    /// Pins taken from a feasible plan always fit; the next plan (another seed) keeps every one
    /// on its team-day, and the checker agrees.
    #[test]
    fn pins_are_honoured(inst in arb_instance(), seed in 0u64..1000, every in 1usize..4) {
        let p = Problem::from_instance(&inst).unwrap();
        let first = solve(&p, &options(seed));
        let mut pinned = inst.clone();
        let mut expected = Vec::new();
        for (k, (route, stop)) in first.plan.routes.iter().flat_map(|r| r.stops.iter().map(move |s| (r, s))).enumerate() {
            if k % every == 0 {
                let site = pinned.sites.iter_mut().find(|s| s.id == stop.site).unwrap();
                site.pin = Some(TeamDayRef { team: route.team.clone(), day: route.day.clone(), seq: None });
                expected.push((stop.site.clone(), route.team.clone(), route.day.clone()));
            }
        }
        let p2 = Problem::from_instance(&pinned).unwrap();
        let out = solve(&p2, &options(seed + 1));
        prop_assert!(out.pin_conflicts.is_empty(), "{:?}", out.pin_conflicts);
        let check = evaluate(&pinned, &p2, &out.plan);
        prop_assert!(check.feasible, "{:?}", check.errors);
        for (site, team, day) in expected {
            let at = out.plan.routes.iter().find(|r| r.stops.iter().any(|s| s.site == site)).map(|r| (r.team.clone(), r.day.clone()));
            prop_assert_eq!(at, Some((team, day)));
        }
    }

    /// Re-planning an unchanged week from its own plan never loses priority, and changes nothing
    /// unless it serves more.
    #[test]
    fn replanning_changes_nothing_without_a_gain(inst in arb_instance(), seed in 0u64..1000) {
        let p = Problem::from_instance(&inst).unwrap();
        let first = solve(&p, &options(seed));
        let mut again = inst.clone();
        for route in &first.plan.routes {
            for (k, stop) in route.stops.iter().enumerate() {
                let site = again.sites.iter_mut().find(|s| s.id == stop.site).unwrap();
                site.previous = Some(TeamDayRef { team: route.team.clone(), day: route.day.clone(), seq: Some(k as u32) });
            }
        }
        let p2 = Problem::from_instance(&again).unwrap();
        let out = solve(&p2, &options(seed + 7));
        prop_assert!(evaluate(&again, &p2, &out.plan).feasible);
        prop_assert!(out.prize >= first.prize - 1e-9, "{} < {}", out.prize, first.prize);
        if (out.prize - first.prize).abs() < 1e-9 {
            prop_assert_eq!(out.changes, 0);
            prop_assert!(out.travel_s <= first.travel_s);
        }
    }
}

#[test]
fn pins_that_cannot_fit_are_named_and_the_rest_is_feasible() {
    let day = |d: &str| TeamDay {
        day: d.into(),
        start: "08:00".into(),
        end: "12:00".into(),
        frozen: false,
    };
    let site = |id: &str, service: f64| InstanceSite {
        id: id.into(),
        lat: -8.17,
        lon: 113.72,
        service_min: service,
        priority: 10.0,
        windows: None,
        teams: None,
        pin: Some(TeamDayRef {
            team: "tim-1".into(),
            day: DAYS[0].into(),
            seq: None,
        }),
        previous: None,
        service_by_team: None,
        group: None,
        choice: None,
    };
    let inst = Instance {
        name: "pins".into(),
        speed_kmh: 30.0,
        road_factor: 1.3,
        teams: vec![InstanceTeam {
            id: "tim-1".into(),
            base: Point {
                lat: -8.16,
                lon: 113.71,
            },
            days: vec![day(DAYS[0]), day(DAYS[1])],
        }],
        // Two and a half hours each in a four-hour day: one of them cannot stay.
        sites: vec![
            site("a", 150.0),
            site("b", 150.0),
            InstanceSite {
                pin: None,
                ..site("c", 30.0)
            },
        ],
    };
    let p = Problem::from_instance(&inst).unwrap();
    let out = solve(&p, &options(3));
    assert_eq!(out.pin_conflicts.len(), 1, "{:?}", out.pin_conflicts);
    let check = evaluate(&inst, &p, &out.plan);
    assert_eq!(
        check.errors.len(),
        1,
        "only the conflicting pin is reported: {:?}",
        check.errors
    );
    assert!(check.errors[0].contains(&out.pin_conflicts[0]));
    // A pin to a day the team does not work is refused before solving.
    let mut bad = inst.clone();
    bad.sites[2].pin = Some(TeamDayRef {
        team: "tim-1".into(),
        day: DAYS[2].into(),
        seq: None,
    });
    assert!(Problem::from_instance(&bad).is_err());
}

#[test]
fn a_frozen_day_takes_only_its_pins() {
    let inst = Instance {
        name: "frozen".into(),
        speed_kmh: 30.0,
        road_factor: 1.3,
        teams: vec![InstanceTeam {
            id: "tim-1".into(),
            base: Point {
                lat: -8.16,
                lon: 113.71,
            },
            days: vec![TeamDay {
                day: DAYS[0].into(),
                start: "08:00".into(),
                end: "16:00".into(),
                frozen: true,
            }],
        }],
        sites: vec![InstanceSite {
            id: "a".into(),
            lat: -8.17,
            lon: 113.72,
            service_min: 30.0,
            priority: 50.0,
            windows: None,
            teams: None,
            pin: None,
            previous: None,
            service_by_team: None,
            group: None,
            choice: None,
        }],
    };
    let p = Problem::from_instance(&inst).unwrap();
    assert!(solve(&p, &options(1)).plan.routes.is_empty());
}

#[test]
fn a_site_that_fits_nowhere_is_never_planned() {
    let inst = Instance {
        name: "t".into(),
        speed_kmh: 30.0,
        road_factor: 1.3,
        teams: vec![InstanceTeam {
            id: "tim-1".into(),
            base: Point {
                lat: -8.16,
                lon: 113.71,
            },
            days: vec![TeamDay {
                day: DAYS[0].into(),
                start: "08:00".into(),
                end: "12:00".into(),
                frozen: false,
            }],
        }],
        sites: vec![
            // Open only on a day the team does not work.
            InstanceSite {
                id: "a".into(),
                lat: -8.17,
                lon: 113.72,
                service_min: 30.0,
                priority: 50.0,
                windows: Some(vec![Window {
                    day: DAYS[1].into(),
                    open: "08:00".into(),
                    close: "12:00".into(),
                }]),
                teams: None,
                pin: None,
                previous: None,
                service_by_team: None,
                group: None,
                choice: None,
            },
            // Longer than the working day.
            InstanceSite {
                id: "b".into(),
                lat: -8.17,
                lon: 113.72,
                service_min: 300.0,
                priority: 90.0,
                windows: None,
                teams: None,
                pin: None,
                previous: None,
                service_by_team: None,
                group: None,
                choice: None,
            },
            InstanceSite {
                id: "c".into(),
                lat: -8.17,
                lon: 113.72,
                service_min: 60.0,
                priority: 10.0,
                windows: None,
                teams: None,
                pin: None,
                previous: None,
                service_by_team: None,
                group: None,
                choice: None,
            },
        ],
    };
    let p = Problem::from_instance(&inst).unwrap();
    let out = solve(&p, &options(1));
    let served: Vec<&str> = out
        .plan
        .routes
        .iter()
        .flat_map(|r| r.stops.iter().map(|s| s.site.as_str()))
        .collect();
    assert_eq!(served, ["c"]);
    assert!(evaluate(&inst, &p, &out.plan).feasible);
}
