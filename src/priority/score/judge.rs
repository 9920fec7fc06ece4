//! What one person is worth in the judged kabupaten/kota: its coverage now (with what was
//! delivered since its figure) against its target, the shortfall in people and the value of one
//! person of it. A target set as a share of KTP-el holders is judged against them.

use super::Resolver;
use crate::domain::RegionCode;
use crate::domain::coverage::{Coverage, TargetBasis};
use crate::priority::Params;
use chrono::NaiveDate;

/// What a judged region's figures give one person of an indicator.
#[derive(Clone, Copy)]
pub(super) struct Judged {
    pub(super) percent: Option<f64>,
    pub(super) target: Option<f64>,
    pub(super) basis: TargetBasis,
    pub(super) gap_points: f64,
    pub(super) shortfall: f64,
    pub(super) value_per_person: f64,
}

/// The judged region's figures for one indicator: how far from target, and what one person is
/// worth there.
pub(super) fn judge(
    resolver: &mut Resolver<'_>,
    region: &str,
    indicator: &str,
    params: &Params,
    delivered_after: impl Fn(NaiveDate) -> i64,
) -> Judged {
    let (target, basis) = match RegionCode::parse(region)
        .ok()
        .and_then(|r| resolver.target(&r, indicator))
    {
        Some((percent, basis)) => (Some(percent), basis),
        None => (None, TargetBasis::Eligible),
    };
    let Some((coverage, as_of)) = resolver.rollup(region, indicator) else {
        return Judged {
            percent: None,
            target,
            basis,
            gap_points: 0.0,
            shortfall: 0.0,
            value_per_person: 0.0,
        };
    };
    // A target that is a share of KTP-el holders judges the region against its KTP-el holders
    // (without a KTP-el figure, against the indicator's own eligible people).
    let coverage = match basis {
        TargetBasis::KtpElHolders => match resolver.rollup(region, "ktp_el") {
            Some((ktp, _)) => Coverage {
                eligible: ktp.holders,
                holders: coverage.holders,
            },
            None => coverage,
        },
        TargetBasis::Eligible => coverage,
    };
    let holders = coverage.holders + delivered_after(as_of);
    let eligible = coverage.eligible as f64;
    let now = Coverage {
        eligible: coverage.eligible,
        holders,
    };
    let percent = now.percent().map(|p| p.min(100.0));
    // Whole people: the holders the target needs, less those there are.
    let shortfall = target
        .map(|t| ((t / 100.0 * eligible - 1e-6).ceil() - holders as f64).max(0.0))
        .unwrap_or(0.0);
    let uncovered = now.uncovered() as f64;
    let value_per_person = if shortfall >= 1.0 {
        10_000.0 / shortfall
    } else if uncovered >= 1.0 {
        params.above_target_weight * 10_000.0 / uncovered
    } else {
        0.0
    };
    Judged {
        percent,
        target,
        basis,
        gap_points: match (percent, target) {
            (Some(p), Some(t)) if t > p => t - p,
            _ => 0.0,
        },
        shortfall,
        value_per_person,
    }
}
