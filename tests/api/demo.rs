//! `demo` loads the real Jember data and is idempotent.

use crate::helpers::TestApp;
use crate::on_both_backends;

pub async fn demo_loads_jember_and_a_second_run_changes_nothing(app: &TestApp) {
    let first = app.run_demo().await;
    assert!(first.changed);
    let count =
        |v: &[(String, u64)], k: &str| v.iter().find(|(n, _)| n == k).map(|(_, c)| *c).unwrap_or(0);
    let c = &first.counts;
    assert_eq!(count(&c.regions_by_level, "kabupaten"), 1);
    assert_eq!(count(&c.regions_by_level, "kecamatan"), 31);
    assert_eq!(
        count(&c.regions_by_level, "desa") + count(&c.regions_by_level, "kelurahan"),
        248
    );
    assert_eq!(c.regions_with_boundary, 1 + 31 + 248);
    let schools: u64 = ["sd", "smp", "sma", "smk", "slb"]
        .iter()
        .map(|k| count(&c.sites_by_kind, k))
        .sum();
    assert_eq!(schools, 1568, "the real Dapodik schools");
    for synthetic in ["paud", "tk", "ra", "mi", "mts", "ma", "balai_desa"] {
        assert!(
            count(&c.sites_by_kind, synthetic) > 0,
            "synthetic layer has {synthetic}"
        );
    }
    assert_eq!(count(&c.sites_by_kind, "balai_desa"), 248);
    assert_eq!(c.teams, 4);
    assert_eq!(c.regions_with_coverage, 31, "coverage for every kecamatan");
    assert_eq!(c.coverage_snapshots, 31 * 4);

    // The kabupaten figure rebuilt from the 31 kecamatan snapshots is the published one.
    let pct = |ind: &str| {
        first
            .coverage
            .iter()
            .find(|x| x.indicator == ind)
            .unwrap()
            .clone_percent()
    };
    assert_eq!(pct("ktp_el"), "98.60");
    assert_eq!(pct("kia"), "49.66");
    // Jawa Timur's IKD target is 25 % of KTP-el holders: Jember's IKD is counted against them.
    let of = |ind: &str| first.coverage.iter().find(|x| x.indicator == ind).unwrap();
    let (ikd, ktp_el) = (of("ikd"), of("ktp_el"));
    assert_eq!(
        (ikd.target_percent, ikd.target_basis),
        (Some(25.0), Some("ktp_el"))
    );
    assert_eq!(ikd.eligible, ktp_el.holders);
    assert_eq!(ikd.clone_percent(), "4.87");
    assert_eq!(ktp_el.target_basis, Some("eligible"));

    // Next week's top 10 of Jember, each with its sentences.
    let top = &first.priorities.items;
    assert_eq!(top.len(), 10);
    assert!(top.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(
        top.iter()
            .all(|i| i.explanation.id.starts_with(&i.site.name) && !i.explanation.en.is_empty())
    );

    // The console's map reads every kecamatan's coverage in one go: the same figures as one by one.
    let jember = jemput::domain::RegionCode::parse("35.09").unwrap();
    let kecamatan: Vec<_> = jemput::services::catalog::child_boundaries(&app.db, &jember)
        .await
        .unwrap()
        .into_iter()
        .map(|(c, _, boundary)| {
            assert!(boundary.is_some(), "{c} has its boundary");
            jemput::domain::RegionCode::parse(&c).unwrap()
        })
        .collect();
    assert_eq!(kecamatan.len(), 31);
    let together = jemput::services::catalog::coverage_within(&app.db, &jember, &kecamatan, 2026)
        .await
        .unwrap();
    for (code, batch) in kecamatan.iter().zip(together) {
        let alone = jemput::services::catalog::coverage(&app.db, code, 2026)
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&batch).unwrap(),
            serde_json::to_value(&alone).unwrap(),
            "{code}"
        );
    }

    let second = app.run_demo().await;
    assert!(!second.changed, "second run: {:?}", second.imports);
    assert!(
        second
            .imports
            .iter()
            .all(|(_, s)| s.inserted == 0 && s.updated == 0)
    );
    assert_eq!(second.counts, first.counts);
}

trait Pct {
    fn clone_percent(&self) -> String;
}

impl Pct for jemput::store::queries::IndicatorCoverage {
    fn clone_percent(&self) -> String {
        format!(
            "{:.2}",
            self.holders.unwrap() as f64 * 100.0 / self.eligible.unwrap() as f64
        )
    }
}

on_both_backends!(demo_loads_jember_and_a_second_run_changes_nothing);
