//! The demo week is one a Disdukcapil coordinator could defend: it serves KIA and visits PAUD
//! and primary schools, keeps a site's days together, names what is left, takes the midday
//! break, respects school hours and the school calendar; shares of team time are met.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use jemput::domain::{RegionCode, SiteKind, WeeklyHours};
use sea_orm::EntityTrait;

use crate::helpers::{DEMO_WEEK, TestApp};
use crate::on_both_backends;

const SCHOOL_KINDS: [&str; 11] = [
    "paud", "tk", "ra", "sd", "mi", "smp", "mts", "sma", "smk", "ma", "slb",
];

fn minutes(hm: &str) -> u32 {
    let (h, m) = hm.split_once(':').unwrap();
    h.parse::<u32>().unwrap() * 60 + m[..2].parse::<u32>().unwrap()
}

pub async fn the_demo_week_is_one_a_coordinator_could_defend(app: &TestApp) {
    let report = app.run_demo().await;
    let plan = &report.plan;
    assert_eq!(plan.week, DEMO_WEEK);
    let stops: Vec<(
        &jemput::services::planning::RouteView,
        &jemput::services::planning::StopView,
    )> = plan
        .routes
        .iter()
        .flat_map(|r| r.stops.iter().map(move |s| (r, s)))
        .collect();
    assert!(stops.len() >= 40, "a full week: {} visits", stops.len());

    // KIA is at least a fifth of the people served; PAUD/TK/RA/SD/MI at least a fifth of visits.
    let people: f64 = plan.totals.people.values().sum();
    let kia = plan.totals.people.get("kia").copied().unwrap_or(0.0);
    assert!(kia >= 0.2 * people, "KIA {kia} of {people}");
    let young = stops
        .iter()
        .filter(|(_, s)| ["paud", "tk", "ra", "sd", "mi"].contains(&s.kind.as_str()))
        .count();
    assert!(
        5 * young >= stops.len(),
        "{young} of {} visits",
        stops.len()
    );

    // Each team's working days this week (its hours, less holidays), in order.
    let settings = &app.settings;
    let monday = jemput::services::ranking::week_start(DEMO_WEEK).unwrap();
    let teams: HashMap<i64, jemput::store::entity::teams::Model> =
        jemput::store::entity::teams::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
    let working_days = |team: i64| -> Vec<NaiveDate> {
        let hours = WeeklyHours::parse(&teams[&team].working_hours).unwrap();
        (0..7)
            .map(|d| monday + chrono::Duration::days(d))
            .filter(|d| !settings.planner.holidays.contains(d))
            .filter(|d| {
                !hours
                    .intervals(d.weekday().num_days_from_monday() as usize)
                    .is_empty()
            })
            .collect()
    };

    // A site's parts: one team, that team's consecutive working days, in part order (or two
    // teams on the same day).
    let mut by_site: BTreeMap<i64, Vec<(i32, i64, NaiveDate)>> = BTreeMap::new();
    for (r, s) in &stops {
        by_site
            .entry(s.site_id)
            .or_default()
            .push((s.part, r.team_id, r.day.parse().unwrap()));
    }
    for (site, mut parts) in by_site.clone() {
        parts.sort();
        let parts_total = stops
            .iter()
            .find(|(_, s)| s.site_id == site)
            .unwrap()
            .1
            .parts;
        if parts.len() < 2 {
            continue;
        }
        let same_day = parts.iter().all(|p| p.2 == parts[0].2);
        let same_team = parts.iter().all(|p| p.1 == parts[0].1);
        assert!(
            same_day || same_team,
            "site {site}: parts split across teams on different days"
        );
        // A PAUD pair's pick-up comes `collect_days` working days after its drop-off.
        let pair = stops
            .iter()
            .any(|(_, s)| s.site_id == site && s.task == "antar");
        let gap = if pair {
            settings.planner.paud_pairs.collect_days as usize
        } else {
            1
        };
        if !same_day {
            let days = working_days(parts[0].1);
            for w in parts.windows(2) {
                let i = days.iter().position(|d| *d == w[0].2).unwrap();
                assert_eq!(
                    days.get(i + gap),
                    Some(&w[1].2),
                    "site {site}: parts {gap} working day(s) apart, in order"
                );
            }
        }
        assert!(parts.len() as i32 <= parts_total);
    }
    // A started site with parts not planned has a "sisa" line.
    for (site, parts) in &by_site {
        let total = stops
            .iter()
            .find(|(_, s)| s.site_id == *site)
            .unwrap()
            .1
            .parts;
        if (parts.len() as i32) < total {
            assert!(
                plan.remainders.iter().any(|r| r.site_id == *site),
                "site {site}: {} of {total} parts planned and no sisa line",
                parts.len()
            );
        }
    }
    for r in &plan.remainders {
        assert!(!r.text_id.is_empty() && !r.text_en.is_empty() && !r.people.is_empty());
    }

    // Every team-day that spans the break takes it: no visit starts or ends inside it.
    let clock = settings.planner.work_clock();
    let (break_start, break_end) = (
        clock.break_start / 60,
        (clock.break_start + clock.break_len) / 60,
    );
    for r in &plan.routes {
        let day: NaiveDate = r.day.parse().unwrap();
        let hours = WeeklyHours::parse(&teams[&r.team_id].working_hours).unwrap();
        let today = hours.intervals(day.weekday().num_days_from_monday() as usize);
        let spans =
            u32::from(today[0].0) < break_start && u32::from(today.last().unwrap().1) > break_end;
        assert_eq!(
            r.break_at.is_some(),
            spans,
            "{} {}: break {:?}",
            r.team,
            r.day,
            r.break_at
        );
        if spans {
            for s in &r.stops {
                let (start, end) = (minutes(&s.start), minutes(&s.end));
                assert!(
                    !(break_start..break_end).contains(&start),
                    "{} starts in the break",
                    s.name
                );
                assert!(
                    !(break_start + 1..=break_end).contains(&end),
                    "{} ends in the break",
                    s.name
                );
            }
            assert!(!(break_start + 1..break_end).contains(&minutes(&r.back_at)));
        }
    }

    // No school visit on a day its hours or the school calendar exclude.
    let closures = jemput::store::calendar::closures(
        &app.db,
        &RegionCode::parse("35.09").unwrap(),
        monday,
        monday + chrono::Duration::days(6),
    )
    .await
    .unwrap();
    assert!(!closures.is_empty(), "the demo has a school calendar");
    for (r, s) in &stops {
        if !SCHOOL_KINDS.contains(&s.kind.as_str()) {
            continue;
        }
        let site = jemput::store::entity::sites::Entity::find_by_id(s.site_id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let day: NaiveDate = r.day.parse().unwrap();
        let hours = WeeklyHours::parse(if site.opening_hours.is_empty() {
            &settings.planner.default_hours[&s.kind]
        } else {
            &site.opening_hours
        })
        .unwrap();
        assert!(
            !hours
                .intervals(day.weekday().num_days_from_monday() as usize)
                .is_empty(),
            "{} visited on {day}, a day it is closed",
            s.name
        );
        let region = RegionCode::parse(&site.region_code).unwrap();
        let kind = SiteKind::parse(&s.kind).unwrap();
        assert!(
            !closures.iter().any(|c| c.closes(&region, kind, day)),
            "{} visited on {day}, closed by the school calendar",
            s.name
        );
    }
    // The calendar is why the week has no primary or secondary school: the best of them say so.
    assert!(
        plan.unscheduled
            .iter()
            .any(|u| u.why["reason"] == "calendar" && u.text_id.contains("kalender sekolah"))
    );

    // The plan says its numbers are estimates, from when, and which sites are synthetic.
    assert!(
        plan.notes
            .iter()
            .any(|n| n.text_id.contains("perkiraan") && n.text_id.contains("30 September 2024"))
    );
    assert!(plan.notes.iter().any(|n| n.text_id.contains("sintetis")));
    assert!(
        stops
            .iter()
            .filter(|(_, s)| s.synthetic)
            .all(|(_, s)| s.kind != "balai_desa")
    );
}

/// A coordinator's shares of team time are met within five points when there are enough
/// candidates, and the plan reports the shares it reached.
pub async fn shares_of_team_time_are_met(app: &TestApp) {
    app.run_demo().await;
    let resp = app
        .client
        .post(app.url("/api/v1/plans"))
        .json(&serde_json::json!({
            "region": "35.09", "week": DEMO_WEEK, "time_limit_s": 2,
            "shares": {"ikd": 55, "kia": 40}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let plan: serde_json::Value = resp.json().await.unwrap();
    let share = |k: &str| plan["totals"]["share_by_indicator"][k].as_f64().unwrap();
    assert!((share("ikd") - 55.0).abs() <= 5.0, "IKD {}", share("ikd"));
    assert!((share("kia") - 40.0).abs() <= 5.0, "KIA {}", share("kia"));
    assert_eq!(plan["totals"]["target_shares"]["kia"], 40.0);
    // Shares above 100 % in all are refused, naming the field.
    let resp = app
        .client
        .post(app.url("/api/v1/plans"))
        .json(&serde_json::json!({"region": "35.09", "week": DEMO_WEEK, "shares": {"ikd": 70, "kia": 40}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("shares"));
}

on_both_backends!(the_demo_week_is_one_a_coordinator_could_defend);
on_both_backends!(shares_of_team_time_are_met);
