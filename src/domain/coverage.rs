//! Coverage = holders / eligible, with the numerator and denominator kept (never only a
//! percentage: the DKB denominator moves every semester).

use super::site::code_enum;
use std::fmt;

code_enum!(
    /// The Dukcapil indicators jemput knows out of the box. The `indicators` table is the source
    /// of truth and may hold more; these are the ones the code reasons about.
    Indicator, "indikator" {
        KtpEl => "ktp_el", Kia => "kia", AktaLahir => "akta_lahir", Ikd => "ikd",
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Coverage {
    pub eligible: i64,
    pub holders: i64,
}

impl Coverage {
    /// Percent covered, `None` when nobody is eligible.
    pub fn percent(&self) -> Option<f64> {
        (self.eligible > 0).then(|| self.holders as f64 * 100.0 / self.eligible as f64)
    }

    /// People still without the document (never negative: Dukcapil can report > 100 %).
    pub fn uncovered(&self) -> i64 {
        (self.eligible - self.holders).max(0)
    }
}

impl std::iter::Sum for Coverage {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Coverage::default(), |a, b| Coverage {
            eligible: a.eligible + b.eligible,
            holders: a.holders + b.holders,
        })
    }
}

/// Validate one reported figure: eligible and holders non-negative; holders above eligible only
/// when the caller explicitly allows it (stale DKB base); a stated percent at most 100 and
/// consistent with the counts.
pub fn check_figures(
    eligible: i64,
    holders: i64,
    allow_over_100: bool,
) -> Result<Coverage, String> {
    if eligible < 0 || holders < 0 {
        return Err("jumlah tidak boleh negatif".into());
    }
    if holders > eligible && !allow_over_100 {
        return Err(format!(
            "holders ({holders}) melebihi eligible ({eligible}); jika basis DKB memang usang, \
             impor ulang dengan --allow-over-100"
        ));
    }
    Ok(Coverage { eligible, holders })
}

/// How far below target a coverage is, in percentage points (0 at or above target).
pub fn gap_points(percent: f64, target: f64) -> f64 {
    (target - percent).max(0.0)
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.percent() {
            Some(p) => write!(f, "{}/{} ({p:.2}%)", self.holders, self.eligible),
            None => write!(f, "{}/{}", self.holders, self.eligible),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jember_published_figures() {
        let c = Coverage {
            eligible: 2_018_069,
            holders: 1_989_816,
        };
        assert_eq!(format!("{:.2}", c.percent().unwrap()), "98.60");
        assert_eq!(c.uncovered(), 28_253);
    }

    #[test]
    fn holders_above_eligible_need_the_flag() {
        assert!(check_figures(100, 101, false).is_err());
        assert_eq!(check_figures(100, 101, true).unwrap().uncovered(), 0);
        assert!(check_figures(-1, 0, true).is_err());
        assert_eq!(gap_points(99.5, 99.4), 0.0);
    }
}

/// Coverage of a region from the latest snapshots: its own snapshot where there is one,
/// otherwise the sum of its children's (recursively). Returns the coverage and how many
/// snapshot regions it was built from, or `None` when nothing below has data.
pub fn rollup(
    code: &str,
    children: &std::collections::HashMap<String, Vec<String>>,
    own: &std::collections::HashMap<String, Coverage>,
) -> Option<(Coverage, usize)> {
    if let Some(c) = own.get(code) {
        return Some((*c, 1));
    }
    let parts: Vec<(Coverage, usize)> = children
        .get(code)?
        .iter()
        .filter_map(|child| rollup(child, children, own))
        .collect();
    if parts.is_empty() {
        return None;
    }
    let n = parts.iter().map(|p| p.1).sum();
    Some((parts.into_iter().map(|p| p.0).sum(), n))
}

#[cfg(test)]
mod rollup_tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn kabupaten_is_the_sum_of_its_kecamatan_unless_it_has_its_own() {
        let children = HashMap::from([(
            "35.09".to_string(),
            vec!["35.09.01".into(), "35.09.02".into(), "35.09.03".into()],
        )]);
        let mut own = HashMap::from([
            (
                "35.09.01".to_string(),
                Coverage {
                    eligible: 100,
                    holders: 90,
                },
            ),
            (
                "35.09.02".to_string(),
                Coverage {
                    eligible: 300,
                    holders: 290,
                },
            ),
        ]);
        assert_eq!(
            rollup("35.09", &children, &own),
            Some((
                Coverage {
                    eligible: 400,
                    holders: 380
                },
                2
            ))
        );
        own.insert(
            "35.09".into(),
            Coverage {
                eligible: 1,
                holders: 1,
            },
        );
        assert_eq!(rollup("35.09", &children, &own).unwrap().1, 1);
        assert_eq!(rollup("35.10", &children, &own), None);
    }
}

/// What a target's percent is a share of. Most targets are shares of the indicator's own
/// eligible people (for IKD: *wajib KTP*); Jawa Timur sets its IKD target as a share of the
/// people who hold a KTP-el (`domain.md`: 25 % of KTP-el holders).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetBasis {
    /// The indicator's own denominator, as its coverage figures count it.
    #[default]
    Eligible,
    /// The KTP-el holders of the same region and cut-off.
    KtpElHolders,
}

impl TargetBasis {
    /// `eligible` or `ktp_el`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetBasis::Eligible => "eligible",
            TargetBasis::KtpElHolders => "ktp_el",
        }
    }

    /// From an import's `basis` column: empty, `eligible` or `wajib_ktp` (the indicator's own
    /// denominator), or `ktp_el` / `pemegang_ktp_el` (KTP-el holders).
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "eligible" | "wajib_ktp" => Ok(TargetBasis::Eligible),
            "ktp_el" | "pemegang_ktp_el" => Ok(TargetBasis::KtpElHolders),
            other => Err(format!(
                "basis target tidak dikenal {other:?} (pilihan: wajib_ktp, ktp_el)"
            )),
        }
    }
}

#[cfg(test)]
mod basis_tests {
    use super::TargetBasis;

    #[test]
    fn a_target_basis_reads_as_the_offices_write_it() {
        assert_eq!(TargetBasis::parse(""), Ok(TargetBasis::Eligible));
        assert_eq!(TargetBasis::parse("wajib_ktp"), Ok(TargetBasis::Eligible));
        assert_eq!(
            TargetBasis::parse(" KTP_EL "),
            Ok(TargetBasis::KtpElHolders)
        );
        assert_eq!(
            TargetBasis::parse("pemegang_ktp_el"),
            Ok(TargetBasis::KtpElHolders)
        );
        assert!(TargetBasis::parse("penduduk").is_err());
        assert_eq!(TargetBasis::KtpElHolders.as_str(), "ktp_el");
    }
}
