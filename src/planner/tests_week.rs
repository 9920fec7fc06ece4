//! Multi-day visits, per-team service times and the reasons for what a plan leaves out: each
//! reason is reported only when it is true.

use super::*;
use problem::{GroupRef, InstanceSite, InstanceTeam, Point, TeamDay, Window};
use proptest::prelude::*;
use std::time::Duration;

const MON: &str = "2026-12-07";
const TUE: &str = "2026-12-08";
const WED: &str = "2026-12-09";
/// The Dispendukcapil office in Jember.
const BASE: (f64, f64) = (-8.1629, 113.7167);
/// Degrees of latitude a team drives in one hour (30 km/h, road factor 1.3).
const HOUR_SOUTH: f64 = 30.0 / 1.3 / 111.194_926_644_558_73;

fn team(id: &str, days: &[(&str, &str, &str)]) -> InstanceTeam {
    InstanceTeam {
        id: id.into(),
        base: Point {
            lat: BASE.0,
            lon: BASE.1,
        },
        days: days
            .iter()
            .map(|(day, start, end)| TeamDay {
                day: (*day).into(),
                start: (*start).into(),
                end: (*end).into(),
                frozen: false,
            })
            .collect(),
    }
}

/// A site `hours` of driving south of the base.
fn site(id: &str, hours: f64, service_min: f64, priority: f64) -> InstanceSite {
    InstanceSite {
        id: id.into(),
        lat: BASE.0 - hours * HOUR_SOUTH,
        lon: BASE.1,
        service_min,
        priority,
        windows: None,
        teams: None,
        pin: None,
        previous: None,
        service_by_team: None,
        group: None,
        choice: None,
    }
}

fn window(day: &str, open: &str, close: &str) -> Window {
    Window {
        day: day.into(),
        open: open.into(),
        close: close.into(),
    }
}

fn instance(teams: Vec<InstanceTeam>, sites: Vec<InstanceSite>) -> Instance {
    Instance {
        name: "t".into(),
        speed_kmh: 30.0,
        road_factor: 1.3,
        teams,
        sites,
    }
}

fn options(seed: u64) -> Options {
    Options {
        max_ticks: Some(100_000),
        epoch_ticks: Some(20_000),
        ..Options::new(Duration::from_secs(30), seed)
    }
}

/// Solve and explain every site left out, by id.
fn reasons(inst: &Instance) -> Vec<(String, Why)> {
    let p = Problem::from_instance(inst).unwrap();
    let out = solve(&p, &options(1));
    assert!(evaluate(inst, &p, &out.plan).feasible);
    let all: Vec<usize> = (0..p.n_sites()).collect();
    why_unserved(&p, inst, &out.plan, &all)
        .into_iter()
        .map(|(s, why)| (p.site_ids[s].clone(), why))
        .collect()
}

fn reason_of(inst: &Instance, id: &str) -> Why {
    reasons(inst)
        .into_iter()
        .find(|(s, _)| s == id)
        .map(|(_, w)| w)
        .unwrap_or_else(|| panic!("{id} is planned"))
}

#[test]
fn a_site_an_hour_away_with_a_long_visit_gets_the_window_reason_not_too_far() {
    // A school an hour from the base, open 07:00–13:00, that needs 300 minutes: the team
    // arrives at 08:30 and has 270 minutes before it closes. The round trip (2 h) fits the day.
    let mut school = site("school", 1.0, 300.0, 50.0);
    school.windows = Some(vec![window(MON, "07:00", "13:00")]);
    let inst = instance(vec![team("t", &[(MON, "07:30", "15:30")])], vec![school]);
    assert_eq!(
        reason_of(&inst, "school"),
        Why::NeedsMoreTime {
            service_min: 300,
            window_min: 270
        }
    );
}

#[test]
fn too_far_only_when_the_round_trip_alone_does_not_fit_a_working_day() {
    // Two hours each way: four hours of driving do not fit a 07:30–11:00 day...
    let far = site("far", 2.0, 30.0, 50.0);
    let short_day = instance(
        vec![team("t", &[(MON, "07:30", "11:00")])],
        vec![far.clone()],
    );
    assert_eq!(
        reason_of(&short_day, "far"),
        Why::TooFar {
            round_trip_min: 240
        }
    );
    // ...but they fit a 07:30–15:30 day, where the same site is planned.
    let long_day = instance(vec![team("t", &[(MON, "07:30", "15:30")])], vec![far]);
    assert!(reasons(&long_day).is_empty());
}

#[test]
fn a_site_open_only_when_no_team_can_be_there_has_no_window() {
    let mut kb = site("kb", 0.5, 30.0, 50.0);
    // Open 07:00–07:45; the team leaves at 07:30 and needs half an hour to get there.
    kb.windows = Some(vec![window(MON, "07:00", "07:45")]);
    let inst = instance(vec![team("t", &[(MON, "07:30", "15:30")])], vec![kb]);
    assert_eq!(reason_of(&inst, "kb"), Why::NoWindow);
}

#[test]
fn crowded_out_names_the_visit_it_would_displace() {
    // Two 150-minute visits near the base, one 4-hour day: the better one stays.
    let inst = instance(
        vec![team("t", &[(MON, "08:00", "12:00")])],
        vec![
            site("good", 0.1, 150.0, 100.0),
            site("less", 0.1, 150.0, 10.0),
        ],
    );
    assert_eq!(
        reason_of(&inst, "less"),
        Why::CrowdedOut {
            priority: 10.0,
            displaced_priority: Some(100.0)
        }
    );
}

fn part(id: &str, group: &str, n: u32, service: f64) -> InstanceSite {
    InstanceSite {
        group: Some(GroupRef {
            id: group.into(),
            part: n,
            gap: 1,
        }),
        ..site(id, 0.2, service, 40.0)
    }
}

#[test]
fn a_visit_needing_more_days_than_a_team_works_has_no_consecutive_days() {
    // Three parts of a day each; the team works two days.
    let inst = instance(
        vec![team(
            "t",
            &[(MON, "07:30", "15:30"), (TUE, "07:30", "15:30")],
        )],
        vec![
            part("s#1", "s", 1, 300.0),
            part("s#2", "s", 2, 300.0),
            part("s#3", "s", 3, 300.0),
        ],
    );
    let why = reasons(&inst);
    assert_eq!(why.len(), 3, "all parts are left out together: {why:?}");
    assert!(
        why.iter()
            .all(|(_, w)| *w == Why::NoConsecutiveDays { parts: 3 })
    );
}

#[test]
fn parts_go_to_one_team_on_consecutive_days_in_order() {
    // Two teams, three days; a school that needs two days.
    let inst = instance(
        vec![
            team(
                "t1",
                &[
                    (MON, "07:30", "15:30"),
                    (TUE, "07:30", "15:30"),
                    (WED, "07:30", "15:30"),
                ],
            ),
            team("t2", &[(MON, "07:30", "15:30"), (WED, "07:30", "15:30")]),
        ],
        vec![part("s#1", "s", 1, 300.0), part("s#2", "s", 2, 300.0)],
    );
    let p = Problem::from_instance(&inst).unwrap();
    let out = solve(&p, &options(2));
    assert!(evaluate(&inst, &p, &out.plan).feasible);
    let at = |id: &str| {
        out.plan
            .routes
            .iter()
            .find(|r| r.stops.iter().any(|s| s.site == id))
            .map(|r| (r.team.clone(), r.day.clone()))
            .unwrap()
    };
    let (first, second) = (at("s#1"), at("s#2"));
    assert_eq!(first.0, second.0, "one team");
    let days: Vec<&str> = inst
        .teams
        .iter()
        .find(|t| t.id == first.0)
        .unwrap()
        .days
        .iter()
        .map(|d| d.day.as_str())
        .collect();
    let i = days.iter().position(|d| *d == first.1).unwrap();
    assert_eq!(
        days[i + 1],
        second.1,
        "part 2 on the team's next working day"
    );
}

#[test]
fn a_paud_pair_is_planned_its_gap_apart_by_one_team_though_its_drop_off_earns_nothing() {
    // The drop-off (15 min, no prize) and the pick-up two working days later; team t2 works
    // Monday and Tuesday only, so only t1 can take the pair (Monday and Wednesday).
    let mut drop = part("k#1", "k", 1, 15.0);
    drop.priority = 0.0;
    let mut pick = part("k#2", "k", 2, 60.0);
    for s in [&mut drop, &mut pick] {
        s.group.as_mut().unwrap().gap = 2;
    }
    let inst = instance(
        vec![
            team(
                "t1",
                &[
                    (MON, "07:30", "15:30"),
                    (TUE, "07:30", "15:30"),
                    (WED, "07:30", "15:30"),
                ],
            ),
            team("t2", &[(MON, "07:30", "15:30"), (TUE, "07:30", "15:30")]),
        ],
        vec![drop, pick],
    );
    let p = Problem::from_instance(&inst).unwrap();
    let out = solve(&p, &options(2));
    assert!(evaluate(&inst, &p, &out.plan).feasible);
    let at = |id: &str| {
        out.plan
            .routes
            .iter()
            .find(|r| r.stops.iter().any(|s| s.site == id))
            .map(|r| (r.team.clone(), r.day.clone()))
    };
    assert_eq!(at("k#1"), Some(("t1".into(), MON.into())));
    assert_eq!(at("k#2"), Some(("t1".into(), WED.into())));
}

#[test]
fn the_checker_refuses_parts_split_or_scattered() {
    let inst = instance(
        vec![
            team(
                "t1",
                &[
                    (MON, "07:30", "15:30"),
                    (TUE, "07:30", "15:30"),
                    (WED, "07:30", "15:30"),
                ],
            ),
            team("t2", &[(MON, "07:30", "15:30"), (TUE, "07:30", "15:30")]),
        ],
        vec![part("s#1", "s", 1, 120.0), part("s#2", "s", 2, 120.0)],
    );
    let p = Problem::from_instance(&inst).unwrap();
    let plan = |stops: &[(&str, &str, &str)]| Plan {
        routes: stops
            .iter()
            .map(|(team, day, site)| PlanRoute {
                team: (*team).into(),
                day: (*day).into(),
                stops: vec![PlanStop {
                    site: (*site).into(),
                    arrive: String::new(),
                    start: String::new(),
                    end: String::new(),
                }],
            })
            .collect(),
    };
    let errors = |stops: &[(&str, &str, &str)]| evaluate(&inst, &p, &plan(stops)).errors;
    assert!(errors(&[("t1", MON, "s#1"), ("t1", TUE, "s#2")]).is_empty());
    assert!(errors(&[("t1", MON, "s#1")])[0].contains("only some"));
    assert!(errors(&[("t1", MON, "s#1"), ("t2", TUE, "s#2")])[0].contains("different teams"));
    assert!(errors(&[("t1", TUE, "s#1"), ("t1", MON, "s#2")])[0].contains("consecutive"));
    assert!(errors(&[("t1", MON, "s#1"), ("t1", WED, "s#2")])[0].contains("consecutive"));
    // A PAUD pair: drop-off and pick-up two working days apart, by one team.
    let mut inst = inst;
    for s in &mut inst.sites {
        if let Some(g) = &mut s.group {
            g.gap = 2;
        }
    }
    let p = Problem::from_instance(&inst).unwrap();
    let errors = |stops: &[(&str, &str, &str)]| evaluate(&inst, &p, &plan(stops)).errors;
    assert!(errors(&[("t1", MON, "s#1"), ("t1", WED, "s#2")]).is_empty());
    assert!(errors(&[("t1", MON, "s#1"), ("t1", TUE, "s#2")])[0].contains("2 working days apart"));
}

#[test]
fn each_team_takes_its_own_service_time() {
    // 5 hours with the 2-kit team, 3h20 with the 3-kit team: only the latter fits the day.
    let mut school = site("school", 0.2, 300.0, 50.0);
    school.service_by_team = Some(std::collections::BTreeMap::from([
        ("two".to_string(), 300.0),
        ("three".to_string(), 200.0),
    ]));
    let day = [(MON, "07:30", "12:00")];
    let inst = instance(vec![team("two", &day), team("three", &day)], vec![school]);
    let p = Problem::from_instance(&inst).unwrap();
    let out = solve(&p, &options(1));
    assert!(evaluate(&inst, &p, &out.plan).feasible);
    assert_eq!(out.plan.routes.len(), 1);
    assert_eq!(out.plan.routes[0].team, "three");
    assert_eq!(out.plan.routes[0].stops[0].end, "11:02");
}

const DAYS: [&str; 3] = [MON, TUE, WED];

fn hm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

prop_compose! {
    /// A site up to three hours away, with windows on some days, sometimes a per-team service
    /// time, sometimes one part of a multi-day visit (groups g0..g2).
    fn arb_site(i: usize)(
        hours in 0.0f64..3.0, east in -0.3f64..0.3,
        service in 10u32..400, priority in 1u32..100,
        windows in proptest::collection::vec((0usize..3, 420u32..780, 30u32..400), 0..3),
        faster in proptest::option::weighted(0.3, 0.4f64..1.0),
        group in proptest::option::weighted(0.3, (0usize..3, 1u32..4)),
    ) -> InstanceSite {
        let mut s = site(&format!("s{i}"), hours, f64::from(service), f64::from(priority));
        s.lon += east;
        s.windows = (!windows.is_empty()).then(|| windows.into_iter().map(|(d, open, len)| Window {
            day: DAYS[d].into(), open: hm(open), close: hm((open + len).min(1439)),
        }).collect());
        s.service_by_team = faster.map(|f| std::collections::BTreeMap::from([
            ("t0".to_string(), (f64::from(service) * f).round()),
        ]));
        s.group = group.map(|(g, part)| GroupRef { id: format!("g{g}"), part: part + i as u32 * 10, gap: 1 });
        s
    }
}

fn arb_instance() -> impl Strategy<Value = Instance> {
    (
        1usize..=3,
        0usize..=20,
        proptest::collection::vec((0usize..=1, 240u32..540), 3),
    )
        .prop_flat_map(|(teams, sites, shape)| {
            let teams: Vec<InstanceTeam> = (0..teams)
                .map(|t| {
                    let (skip, len) = shape[t];
                    let days: Vec<(&str, String, String)> = DAYS
                        .iter()
                        .enumerate()
                        .filter(|(d, _)| !(skip == 1 && *d == 1))
                        .map(|(_, d)| (*d, hm(450), hm(450 + len)))
                        .collect();
                    InstanceTeam {
                        id: format!("t{t}"),
                        base: Point {
                            lat: BASE.0,
                            lon: BASE.1,
                        },
                        days: days
                            .into_iter()
                            .map(|(day, start, end)| TeamDay {
                                day: day.into(),
                                start,
                                end,
                                frozen: false,
                            })
                            .collect(),
                    }
                })
                .collect();
            (Just(teams), (0..sites).map(arb_site).collect::<Vec<_>>())
                .prop_map(|(teams, sites)| instance(teams, sites))
        })
}

/// The checker's verdict on one route `(team, day)` visiting `site` alone, changed as `f` says.
fn alone_ok(
    inst: &Instance,
    site: &InstanceSite,
    team: &str,
    day: &str,
    f: impl Fn(&mut InstanceSite),
) -> bool {
    let mut s = site.clone();
    s.group = None;
    if let Some(by_team) = &mut s.service_by_team {
        by_team.retain(|t, _| t == team);
    }
    f(&mut s);
    let t = inst.teams.iter().find(|t| t.id == team).unwrap().clone();
    let mini = instance(vec![t], vec![s.clone()]);
    let p = Problem::from_instance(&mini).unwrap();
    let plan = Plan {
        routes: vec![PlanRoute {
            team: team.into(),
            day: day.into(),
            stops: vec![PlanStop {
                site: s.id.clone(),
                arrive: String::new(),
                start: String::new(),
                end: String::new(),
            }],
        }],
    };
    evaluate(&mini, &p, &plan).feasible
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// With multi-day visits and per-team service times in the mix, every plan passes the
    /// checker (one team, consecutive working days, in order, all or none) and is repeatable.
    #[test]
    fn plans_with_multi_day_visits_pass_the_checker(inst in arb_instance(), seed in 0u64..1000) {
        let p = Problem::from_instance(&inst).unwrap();
        let a = solve(&p, &options(seed));
        let check = evaluate(&inst, &p, &a.plan);
        prop_assert!(check.feasible, "{:?}", check.errors);
        prop_assert!(a.prize <= a.upper_bound + 1e-6);
        let b = solve(&p, &options(seed));
        prop_assert_eq!(serde_json::to_string(&a.plan).unwrap(), serde_json::to_string(&b.plan).unwrap());
    }

    /// Every reason given is true, checked independently of how it was found: "too far" only
    /// when the bare round trip fits no day; "needs more time" only when the site could be
    /// reached open; "crowded out" only when it fits an empty day alone.
    #[test]
    fn every_reason_given_is_true(inst in arb_instance()) {
        let all = reasons(&inst);
        let routes: Vec<(String, String)> = inst.teams.iter()
            .flat_map(|t| t.days.iter().map(move |d| (t.id.clone(), d.day.clone())))
            .collect();
        for (id, why) in all {
            let s = inst.sites.iter().find(|s| s.id == id).unwrap();
            let units: Vec<&InstanceSite> = match &s.group {
                Some(g) => inst.sites.iter().filter(|x| x.group.as_ref().is_some_and(|h| h.id == g.id)).collect(),
                None => vec![s],
            };
            // Per part: is there a day where the checker accepts it under each trial?
            let exists = |u: &InstanceSite, f: &dyn Fn(&mut InstanceSite)| {
                routes.iter().any(|(t, d)| alone_ok(&inst, u, t, d, f))
            };
            let round_trip = |x: &mut InstanceSite| {
                x.service_min = 0.0; x.service_by_team = None; x.windows = None;
            };
            let reach = |x: &mut InstanceSite| { x.service_min = 0.0; x.service_by_team = None; };
            let as_is = |_: &mut InstanceSite| {};
            let some_part = |p: &dyn Fn(&InstanceSite) -> bool| units.iter().any(|u| p(u));
            match why {
                Why::TooFar { .. } => prop_assert!(some_part(&|u| !exists(u, &round_trip)),
                    "{id}: too far, yet every part's round trip fits"),
                Why::NoWindow => prop_assert!(some_part(&|u| exists(u, &round_trip) && !exists(u, &reach)),
                    "{id}: no window"),
                Why::NeedsMoreTime { service_min, window_min } => {
                    prop_assert!(some_part(&|u| exists(u, &reach) && !exists(u, &as_is)), "{id}: needs more time");
                    prop_assert!(service_min > window_min, "{id}: {service_min} > {window_min}");
                }
                Why::NoConsecutiveDays { .. } => {
                    prop_assert!(units.iter().all(|u| exists(u, &as_is)), "{id}: each part fits a day alone")
                }
                Why::CrowdedOut { priority, displaced_priority } => {
                    prop_assert!(units.iter().all(|u| exists(u, &as_is)), "{id}: each part fits a day alone");
                    // After the swap pass, whatever blocks a single visit is worth more.
                    if let (Some(d), None) = (displaced_priority, &s.group) {
                        prop_assert!(d >= priority - 1e-9, "{id}: {priority} crowded out by {d}");
                    }
                }
                Why::Overlooked => prop_assert!(false, "{id}: the last pass leaves nothing that fits"),
            }
        }
    }
}
