//! The weekly report (plan against actual per team and kecamatan, coverage before and after)
//! and the audit trail.

use std::collections::BTreeMap;

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::auth::{REVIEWERS, STAFF, require, scope_of};
use super::params::{Query, auth_header, reply, with_state};
use super::visits::{int_q, region_q, week_q};
use super::{ApiError, AppState};
use crate::domain::RegionCode;
use crate::fieldlog::Status;
use crate::services::fieldlogs::{self as service, Log};

#[derive(Default, serde::Serialize)]
struct Tally {
    visits_planned: u32,
    visits_logged: u32,
    /// selesai + sebagian
    visits_done: u32,
    by_status: BTreeMap<String, u32>,
    /// Documents per service in logs not rejected.
    documents: BTreeMap<String, u64>,
    /// … of which approved.
    documents_approved: BTreeMap<String, u64>,
    turned_away: u64,
    travel_planned_s: i64,
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

/// GET /api/v1/reports/weekly?region=&week= — plan against actual per team and per kecamatan,
/// with coverage before (official) and after (derived from approved logs).
pub async fn weekly(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let region = region_q(&q, "region")?.ok_or_else(|| {
        ApiError::BadRequest("parameter region wajib diisi / region is required".into())
    })?;
    if !p.covers_region(region.as_str()) {
        return Err(ApiError::Forbidden(
            "Wilayah di luar cakupan Anda / region outside your scope".into(),
        ));
    }
    let week = week_q(&q)?.unwrap_or_else(|| region.next_week(s.clock.now()).to_string());
    let (visits, logs) = service::week_of(&s.db, &region, &week).await?;
    let kecamatan_of = |code: &str| -> String {
        RegionCode::parse(code)
            .ok()
            .and_then(|c| {
                c.lineage()
                    .into_iter()
                    .find(|a| a.depth() == crate::domain::region::Depth::Kecamatan)
            })
            .map(|c| c.to_string())
            .unwrap_or_else(|| code.to_string())
    };
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
    let coverage = service::coverage_changes(&s.db, &region).await?;
    let names =
        crate::services::catalog::region_names(&s.db, &kec.keys().cloned().collect::<Vec<_>>())
            .await?;
    let kecamatan: Vec<_> = kec
        .into_iter()
        .map(|(code, t)| {
            let cov: Vec<_> = coverage
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
                    serde_json::json!({
                        "indicator": c.indicator, "eligible": c.eligible,
                        "before": c.official_holders, "before_as_of": c.official_as_of,
                        "after": after, "after_as_of": c.derived_as_of.unwrap_or(c.official_as_of),
                        "percent_before": (pct(c.official_holders) * 100.0).round() / 100.0,
                        "percent_after": (pct(after) * 100.0).round() / 100.0,
                    })
                })
                .collect();
            serde_json::json!({
                "code": code, "name": names.get(&code), "tally": t, "coverage": cov,
            })
        })
        .collect();
    let teams: Vec<_> = teams
        .into_iter()
        .map(|((id, name), t)| serde_json::json!({ "id": id, "name": name, "tally": t }))
        .collect();
    Ok(warp::reply::json(&serde_json::json!({
        "region": region.as_str(), "week": week, "teams": teams, "kecamatan": kecamatan,
    }))
    .into_response())
}

/// GET /api/v1/audit?limit=
pub async fn audit(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
    let p = require(&s, h, REVIEWERS).await?;
    let scope = scope_of(&p)?;
    let limit = int_q(&q, "limit")?.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest("parameter limit: 1..1000".into()));
    }
    let items: Vec<_> = crate::services::accounts::audit_trail(&s.db, scope.as_ref(), limit as u64)
        .await?
        .into_iter()
        .map(|a| {
            serde_json::json!({
                "id": a.id, "at": a.at, "actor": a.actor, "action": a.action,
                "object_type": a.object_type, "object_id": a.object_id, "region": a.region_code,
                "detail": a.detail,
            })
        })
        .collect();
    Ok(warp::reply::json(&serde_json::json!({ "items": items })).into_response())
}

/// GET /api/v1/reports/weekly and /api/v1/audit.
pub(super) fn routes(state: &AppState) -> Vec<BoxedFilter<(Response,)>> {
    let weekly = warp::path!("api" / "v1" / "reports" / "weekly")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(weekly(s, h, q).await) })
        .boxed();
    let audit = warp::path!("api" / "v1" / "audit")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(audit(s, h, q).await) })
        .boxed();
    vec![weekly, audit]
}
