//! Ranking every site of a Jawa Timur–sized province on one core.
//!
//! The synthetic province is generated here, deterministically: 38 kabupaten/kota × 18
//! kecamatan × 12–13 desa (8,550 desa, Jatim has 8,494), 60,000 sites (schools, PAUD, balai
//! desa, a few institutions and crowd points), coverage for every kecamatan and a third of the
//! desa, national targets and 6,000 logged visits.
//!
//!     cargo bench --bench priorities
//!
//! The README quotes the median.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use jemput::config::{Environment, Settings};
use jemput::domain::{Coverage, RegionCode, SiteKind};
use jemput::priority::{Facts, Site, Target, Visit, rank};

/// A small deterministic generator (64-bit LCG), so the set is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 31) as f64
    }
}

const INDICATORS: [&str; 4] = ["ktp_el", "kia", "akta_lahir", "ikd"];

fn province() -> (Vec<Site>, Facts) {
    let mut rng = Lcg(3509);
    let mut facts = Facts::default();
    let mut desa = Vec::new();
    facts.region_names.insert("35".into(), "Jawa Timur".into());
    for k in 1..=38u32 {
        let kab = format!("35.{k:02}");
        facts
            .region_names
            .insert(kab.clone(), format!("Kabupaten {k}"));
        facts
            .children
            .entry("35".into())
            .or_default()
            .push(kab.clone());
        for c in 1..=18u32 {
            let kec = format!("{kab}.{c:02}");
            facts
                .region_names
                .insert(kec.clone(), format!("Kecamatan {k}-{c}"));
            facts
                .children
                .entry(kab.clone())
                .or_default()
                .push(kec.clone());
            let rates = [0.985, 0.50, 0.98, 0.05];
            for (ind, base) in INDICATORS.iter().zip(rates) {
                let eligible = 20_000 + rng.below(60_000) as i64;
                let rate: f64 = (base + (rng.unit() - 0.5) * 0.04).clamp(0.0, 1.0);
                facts.coverage.insert(
                    (kec.clone(), ind.to_string()),
                    (
                        Coverage {
                            eligible,
                            holders: (eligible as f64 * rate) as i64,
                        },
                        date("2026-06-30"),
                    ),
                );
            }
            for d in 1..=(12 + (c % 2)) {
                let code = format!("{kec}.{:04}", 2000 + d);
                facts
                    .region_names
                    .insert(code.clone(), format!("Desa {k}-{c}-{d}"));
                facts
                    .children
                    .entry(kec.clone())
                    .or_default()
                    .push(code.clone());
                if rng.below(3) == 0 {
                    let eligible = 2_000 + rng.below(8_000) as i64;
                    let rate = 0.45 + rng.unit() * 0.2;
                    facts.coverage.insert(
                        (code.clone(), "kia".into()),
                        (
                            Coverage {
                                eligible,
                                holders: (eligible as f64 * rate) as i64,
                            },
                            date("2026-06-30"),
                        ),
                    );
                }
                desa.push(RegionCode::parse(&code).unwrap());
            }
        }
    }
    for (ind, pct) in INDICATORS.iter().zip([99.4, 60.0, 98.0, 30.0]) {
        facts.targets.push(Target {
            indicator: ind.to_string(),
            year: 2026,
            region: None,
            percent: pct,
            basis: Default::default(),
        });
    }
    let kinds = [
        (SiteKind::Sd, 25),
        (SiteKind::Mi, 6),
        (SiteKind::Smp, 8),
        (SiteKind::Mts, 4),
        (SiteKind::Sma, 3),
        (SiteKind::Smk, 3),
        (SiteKind::Ma, 2),
        (SiteKind::Paud, 20),
        (SiteKind::Tk, 15),
        (SiteKind::Ra, 8),
        (SiteKind::BalaiDesa, 4),
        (SiteKind::Slb, 1),
        (SiteKind::Institusi, 1),
    ];
    let total_weight: u64 = kinds.iter().map(|k| k.1).sum();
    let mut sites = Vec::with_capacity(60_000);
    for i in 0..60_000i64 {
        let mut pick = rng.below(total_weight);
        let kind = kinds
            .iter()
            .find(|(_, w)| {
                if pick < *w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .unwrap()
            .0;
        let region = desa[rng.below(desa.len() as u64) as usize].clone();
        let size = 20 + rng.below(400) as i64;
        let eligible: BTreeMap<String, i64> =
            INDICATORS.iter().map(|i| (i.to_string(), size)).collect();
        sites.push(Site {
            id: i + 1,
            external_id: format!("{:08}", 20_000_000 + i),
            name: format!("Situs {i}"),
            kind,
            region,
            eligible,
            // One site in twenty sent its own count (a school's list).
            counts: if i % 20 == 0 {
                BTreeMap::from([("ktp_el".to_string(), size / 4)])
            } else {
                BTreeMap::new()
            },
            counts_as_of: None,
            synthetic: false,
        });
    }
    for _ in 0..6_000 {
        let site_id = 1 + rng.below(60_000) as i64;
        let days = rng.below(365) as i64;
        facts.visits.push(Visit {
            site_id,
            date: date("2026-11-22") - chrono::Duration::days(days),
            delivered: BTreeMap::from([("ktp_el".to_string(), rng.below(100) as i64)]),
            revisit: false,
        });
    }
    (sites, facts)
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn bench(c: &mut Criterion) {
    let (sites, facts) = province();
    let settings = Settings::load_from(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
        Environment::Development,
    )
    .expect("config/default.toml loads");
    let params = settings.priority;
    let on = date("2026-11-23");
    let desa: HashMap<&str, ()> = sites.iter().map(|s| (s.region.as_str(), ())).collect();
    eprintln!(
        "synthetic province: {} sites in {} desa, {} visits",
        sites.len(),
        desa.len(),
        facts.visits.len()
    );
    let mut group = c.benchmark_group("priorities");
    group.sample_size(30);
    group.bench_function("rank_jatim_sized_province_60k_sites", |b| {
        b.iter(|| black_box(rank(black_box(&sites), black_box(&facts), &params, on)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
