use super::*;
use problem::{InstanceSite, InstanceTeam, Point, TeamDay, Window};
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
        }
    }
}

prop_compose! {
    fn arb_team(i: usize)(lat in -8.3f64..-8.1, lon in 113.4f64..113.8, days in 1usize..=3, start in 420u32..540, len in 240u32..540)
        -> InstanceTeam {
        InstanceTeam {
            id: format!("tim-{i}"),
            base: Point { lat, lon },
            days: DAYS[..days].iter().map(|d| TeamDay { day: d.to_string(), start: hm(start), end: hm((start + len).min(1439)) }).collect(),
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
    Options {
        time_limit: Duration::from_secs(30),
        seed,
        max_ticks: Some(100_000),
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
    fn the_same_seed_gives_the_same_plan(inst in arb_instance(), seed in 0u64..1000) {
        let p = Problem::from_instance(&inst).unwrap();
        let a = solve(&p, &options(seed));
        let b = solve(&p, &options(seed));
        prop_assert_eq!(serde_json::to_string(&a.plan).unwrap(), serde_json::to_string(&b.plan).unwrap());
    }
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
            },
            // Longer than the working day.
            InstanceSite {
                id: "b".into(),
                lat: -8.17,
                lon: 113.72,
                service_min: 300.0,
                priority: 90.0,
                windows: None,
            },
            InstanceSite {
                id: "c".into(),
                lat: -8.17,
                lon: 113.72,
                service_min: 60.0,
                priority: 10.0,
                windows: None,
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
