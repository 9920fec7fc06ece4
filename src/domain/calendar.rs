//! School calendar closures: exam weeks and holidays on which schools (and PAUD) take no visit.

use chrono::NaiveDate;

use super::{RegionCode, SiteKind};

#[derive(Debug, Clone, PartialEq)]
pub struct Closure {
    /// Sites inside this region.
    pub region: RegionCode,
    pub name: String,
    pub starts_on: NaiveDate,
    /// Inclusive.
    pub ends_on: NaiveDate,
    pub kinds: Vec<SiteKind>,
}

impl Closure {
    /// Whether this closure shuts a site of `kind` in `region` on `day`.
    pub fn closes(&self, region: &RegionCode, kind: SiteKind, day: NaiveDate) -> bool {
        (self.starts_on..=self.ends_on).contains(&day)
            && self.kinds.contains(&kind)
            && region.is_within(&self.region)
    }
}

/// The days of `days` on which some closure shuts the site, with the first closure's name.
pub fn closed_days(
    closures: &[Closure],
    region: &RegionCode,
    kind: SiteKind,
    days: impl IntoIterator<Item = NaiveDate>,
) -> Vec<(NaiveDate, String)> {
    days.into_iter()
        .filter_map(|d| {
            closures
                .iter()
                .find(|c| c.closes(region, kind, d))
                .map(|c| (d, c.name.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closure_shuts_its_kinds_inside_its_region_on_its_days() {
        let c = Closure {
            region: RegionCode::parse("35.09").unwrap(),
            name: "PAS".into(),
            starts_on: "2026-12-07".parse().unwrap(),
            ends_on: "2026-12-12".parse().unwrap(),
            kinds: vec![SiteKind::Sma],
        };
        let desa = RegionCode::parse("35.09.01.2001").unwrap();
        let elsewhere = RegionCode::parse("35.10.01").unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(c.closes(&desa, SiteKind::Sma, day("2026-12-12")));
        assert!(!c.closes(&desa, SiteKind::Sma, day("2026-12-13")));
        assert!(!c.closes(&desa, SiteKind::Paud, day("2026-12-08")));
        assert!(!c.closes(&elsewhere, SiteKind::Sma, day("2026-12-08")));
    }
}
