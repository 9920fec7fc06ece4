//! The weekly report: plan against actual per team and per kecamatan, and each kecamatan's
//! coverage before (official figures) and after (derived from approved logs).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::RegionCode;
use crate::domain::region::Depth;
use crate::fieldlog::Status;
use crate::store::{Db, StoreError};

use super::catalog;
use super::fieldlogs::{self, Log};

/// Planned and logged visits of one team or kecamatan.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Tally {
    pub visits_planned: u32,
    pub visits_logged: u32,
    /// selesai + sebagian
    pub visits_done: u32,
    /// Logs per status (`selesai`, `sebagian`, `batal`, `tidak_hadir`).
    pub by_status: BTreeMap<String, u32>,
    /// Documents per service in logs not rejected.
    pub documents: BTreeMap<String, u64>,
    /// … of which approved.
    pub documents_approved: BTreeMap<String, u64>,
    pub turned_away: u64,
    pub travel_planned_s: i64,
}

impl Tally {
    fn add_log(&mut self, l: &Log) {
        self.visits_logged += 1;
        *self.by_status.entry(l.status.clone()).or_default() += 1;
        if Status::parse(&l.status).is_some_and(Status::worked) {
            self.visits_done += 1;
        }
        if l.review == "rejected" {
            return;
        }
        let input = l.input();
        for (k, n) in &input.counts {
            *self.documents.entry(k.clone()).or_default() += u64::from(*n);
            if l.review == "approved" {
                *self.documents_approved.entry(k.clone()).or_default() += u64::from(*n);
            }
        }
        self.turned_away += input
            .turned_away
            .values()
            .map(|n| u64::from(*n))
            .sum::<u64>();
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TeamTally {
    pub id: i64,
    pub name: String,
    pub tally: Tally,
}

/// One indicator of a kecamatan: the official figure and the one derived from approved logs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CoverageBeforeAfter {
    pub indicator: String,
    pub eligible: i64,
    pub before: i64,
    pub before_as_of: NaiveDate,
    pub after: i64,
    pub after_as_of: NaiveDate,
    pub percent_before: f64,
    pub percent_after: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KecamatanTally {
    pub code: String,
    pub name: Option<String>,
    pub tally: Tally,
    pub coverage: Vec<CoverageBeforeAfter>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WeeklyReport {
    pub region: String,
    pub week: String,
    pub teams: Vec<TeamTally>,
    pub kecamatan: Vec<KecamatanTally>,
}

/// The kecamatan a region code lies in (the code itself above kecamatan level).
fn kecamatan_of(code: &str) -> String {
    RegionCode::parse(code)
        .ok()
        .and_then(|c| {
            c.lineage()
                .into_iter()
                .find(|a| a.depth() == Depth::Kecamatan)
        })
        .map(|c| c.to_string())
        .unwrap_or_else(|| code.to_string())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub async fn weekly(db: &Db, region: &RegionCode, week: &str) -> Result<WeeklyReport, StoreError> {
    let (visits, logs) = fieldlogs::week_of(db, region, week).await?;
    let mut teams: BTreeMap<(i64, String), Tally> = BTreeMap::new();
    let mut kec: BTreeMap<String, Tally> = BTreeMap::new();
    for v in &visits {
        let k = kecamatan_of(&v.site.region_code);
        for t in [
            teams.entry((v.team.id, v.team.name.clone())).or_default(),
            kec.entry(k).or_default(),
        ] {
            t.visits_planned += 1;
            t.travel_planned_s += i64::from(v.stop.travel_from_prev_s);
            if let Some(l) = logs.get(&v.stop.id) {
                t.add_log(l);
            }
        }
    }
    let coverage = fieldlogs::coverage_changes(db, region).await?;
    let codes: Vec<String> = kec.keys().cloned().collect();
    let names: HashMap<String, String> = catalog::region_names(db, &codes).await?;
    let kecamatan = kec
        .into_iter()
        .map(|(code, tally)| {
            let coverage = coverage
                .iter()
                .filter(|c| c.region == code)
                .map(|c| {
                    let after = c.derived_holders.unwrap_or(c.official_holders);
                    let pct = |h: i64| {
                        if c.eligible > 0 {
                            100.0 * h as f64 / c.eligible as f64
                        } else {
                            0.0
                        }
                    };
                    CoverageBeforeAfter {
                        indicator: c.indicator.clone(),
                        eligible: c.eligible,
                        before: c.official_holders,
                        before_as_of: c.official_as_of,
                        after,
                        after_as_of: c.derived_as_of.unwrap_or(c.official_as_of),
                        percent_before: round2(pct(c.official_holders)),
                        percent_after: round2(pct(after)),
                    }
                })
                .collect();
            KecamatanTally {
                name: names.get(&code).cloned(),
                code,
                tally,
                coverage,
            }
        })
        .collect();
    let teams = teams
        .into_iter()
        .map(|((id, name), tally)| TeamTally { id, name, tally })
        .collect();
    Ok(WeeklyReport {
        region: region.to_string(),
        week: week.to_string(),
        teams,
        kecamatan,
    })
}
