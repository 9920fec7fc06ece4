//! The manager's pages: the queue of visit logs with their flags, one log in detail (counts,
//! times, the check-in against the site on a map, revisions) with approve/reject, the weekly
//! report (plan against actual per team, coverage before → after per kecamatan), its CSV, and
//! the audit trail.

use std::collections::HashMap;

use serde_json::json;
use warp::Filter;
use warp::reply::Response;

use super::{Lang, Req, base, get_page, ok, post_form, poster, region_of, see_other, visitor};
use crate::domain::{Coordinate, Week};
use crate::http::auth::{REVIEWERS, STAFF};
use crate::http::params::{Query, Route, page_route};
use crate::http::{ApiError, AppState};
use crate::services::fieldlogs::{self, Reviewed};

async fn names(
    s: &AppState,
    site_ids: &[i64],
) -> Result<(HashMap<i64, String>, HashMap<i64, String>), ApiError> {
    let sites = crate::services::catalog::site_names(&s.db, site_ids).await?;
    let teams = crate::services::catalog::teams(&s.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    Ok((sites, teams))
}

fn flag_label(lang: Lang, flag: &str) -> String {
    crate::fieldlog::Flag::parse(flag)
        .map(|f| f.label(lang.code()).to_string())
        .unwrap_or_else(|| flag.to_string())
}

async fn queue(s: AppState, r: Req, code: String, q: Query) -> Result<Response, ApiError> {
    let v = visitor(&s, &r, STAFF).await?;
    let region = region_of(&v, &code)?;
    let mut q = q;
    q.insert("region".into(), region.to_string());
    let shown_review = q.get("review").cloned().unwrap_or_default();
    let query = crate::http::review::log_query(&v.p, &q)?;
    let logs = fieldlogs::logs(&s.db, &query).await?;
    let (sites, teams) = names(&s, &logs.iter().map(|l| l.site_id).collect::<Vec<_>>()).await?;
    let items: Vec<_> = logs
        .iter()
        .map(|l| {
            minijinja::context! {
                id => l.id, site => sites.get(&l.site_id), team => teams.get(&l.team_id),
                date => l.visit_date.to_string(), status => l.status.clone(),
                review => l.review.clone(), revision => l.revision,
                flags => l.flags.iter().map(|f| flag_label(v.lang, f)).collect::<Vec<_>>(),
                documents => l.counts.values().map(|n| u64::from(*n)).sum::<u64>(),
            }
        })
        .collect();
    let ctx = base(&v, &s, Some(region.as_str()), "review");
    ok(
        "review.html",
        minijinja::context! {
            code => region.to_string(), items, shown_review,
            flag => q.get("flag").cloned(), week => q.get("week").cloned(),
            ..ctx
        },
    )
}

async fn log_page(s: AppState, r: Req, id: i64, q: Query) -> Result<Response, ApiError> {
    let v = visitor(&s, &r, STAFF).await?;
    let not_found = || ApiError::NotFound(format!("Laporan {id} tidak ditemukan / log not found"));
    let log = fieldlogs::log(&s.db, id)
        .await?
        .filter(|l| v.p.covers_region(&l.region_code))
        .ok_or_else(not_found)?;
    let visit = fieldlogs::visit(&s.db, log.stop_id)
        .await?
        .ok_or_else(not_found)?;
    let history = fieldlogs::history(&s.db, &visit).await?;
    let site = Coordinate::new(visit.site.lat, visit.site.lon).ok();
    let check_in = match (log.check_in_lat, log.check_in_lon) {
        (Some(a), Some(b)) => Coordinate::new(a, b).ok(),
        _ => None,
    };
    let distance_m = site.zip(check_in).map(|(a, b)| a.distance_m(&b).round());
    let mut features = vec![json!({
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [visit.site.lon, visit.site.lat]},
        "properties": {"role": "base", "label": format!("{}: {}", v.lang.t("Lokasi situs", "Site"), visit.site.name)},
    })];
    if let Some(c) = check_in {
        features.push(json!({
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [c.lon(), c.lat()]},
            "properties": {"role": "site", "radius": 8, "colour": "#b3261e",
                           "label": v.lang.t("Posisi lapor datang", "Check-in position")},
        }));
    }
    let tz: chrono_tz::Tz = crate::domain::RegionCode::parse(&log.region_code)
        .map(|r| r.time_zone().parse().unwrap_or(chrono_tz::Asia::Jakarta))
        .unwrap_or(chrono_tz::Asia::Jakarta);
    let local = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
    };
    let revisions: Vec<_> = history
        .iter()
        .map(|h| {
            minijinja::context! {
                revision => h.revision, at => local(Some(h.logged_at)), by => h.logged_by.clone(),
                status => h.status.clone(), counts => h.counts.clone(), review => h.review.clone(),
                current => h.is_current,
            }
        })
        .collect();
    let ctx = base(
        &v,
        &s,
        Some(&crate::services::catalog::kabupaten_of(&log.region_code)),
        "review",
    );
    ok(
        "log.html",
        minijinja::context! {
            log => minijinja::context! {
                id => log.id, status => log.status.clone(), date => log.visit_date.to_string(),
                counts => log.counts.clone(), turned_away => log.turned_away.clone(),
                notes => log.notes.clone(), review => log.review.clone(),
                reviewed_by => log.reviewed_by.clone(), comment => log.review_comment.clone(),
                revision => log.revision, current => log.is_current,
            },
            site => visit.site.name.clone(), team => visit.team.name.clone(),
            planned => format!(
                "{}–{}",
                visit.stop.start.get(..5).unwrap_or_default(),
                visit.stop.end.get(..5).unwrap_or_default()
            ),
            expected => visit.stop.people.clone(),
            check_in_at => local(log.check_in_at), check_out_at => local(log.check_out_at),
            distance_m, revisions,
            flags => log.flags.iter().map(|f| flag_label(v.lang, f)).collect::<Vec<_>>(),
            reviewer => v.p.is(REVIEWERS),
            flash => (q.get("done").map(String::as_str) == Some("reviewed"))
                .then(|| v.lang.t("Tinjauan disimpan.", "Review saved.")),
            map => json!({"features": features, "empty": false}),
            ..ctx
        },
    )
}

async fn review_log(
    s: AppState,
    r: Req,
    id: i64,
    f: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let v = poster(&s, &r, REVIEWERS, &f).await?;
    let approve = match f.get("decision").map(String::as_str) {
        Some("approve") => true,
        Some("reject") => false,
        _ => {
            return Err(ApiError::BadRequest(
                v.lang
                    .t("Pilih setujui atau tolak.", "Choose approve or reject.")
                    .into(),
            ));
        }
    };
    let comment = f.get("comment").map(|c| c.trim()).unwrap_or_default();
    if comment.chars().count() > 2000 {
        return Err(ApiError::BadRequest(
            v.lang
                .t(
                    "Komentar paling banyak 2000 karakter.",
                    "Comments take at most 2000 characters.",
                )
                .into(),
        ));
    }
    match fieldlogs::review(&s.db, &v.p, id, approve, comment, chrono::Utc::now()).await? {
        Reviewed::NotFound => Err(ApiError::NotFound(format!(
            "Laporan {id} tidak ditemukan / log not found"
        ))),
        Reviewed::NotCurrent => Err(ApiError::Conflict(
            "Ada revisi yang lebih baru / a newer revision exists".into(),
        )),
        Reviewed::Already(r) => Err(ApiError::Conflict(format!(
            "Laporan sudah ditinjau ({r}) / already reviewed"
        ))),
        Reviewed::Done(_) => Ok(see_other(&format!("/app/logs/{id}?done=reviewed"))),
    }
}

/// The week a report opens on: the newest published week up to next week, else next week.
async fn report_week(s: &AppState, region: &crate::domain::RegionCode) -> Result<String, ApiError> {
    let next = region.next_week(s.clock.now()).to_string();
    Ok(
        crate::services::planning::versions(&s.db, region.as_str(), None)
            .await?
            .into_iter()
            .find(|p| p.status == "published" && p.week <= next)
            .map(|p| p.week)
            .unwrap_or(next),
    )
}

async fn report(s: AppState, r: Req, code: String, q: Query) -> Result<Response, ApiError> {
    let v = visitor(&s, &r, STAFF).await?;
    let region = region_of(&v, &code)?;
    let week = match crate::http::params::week_q(&q)? {
        Some(w) => w,
        None => report_week(&s, &region).await?,
    };
    let report = crate::services::reports::weekly(&s.db, &region, &week).await?;
    let most = report
        .teams
        .iter()
        .map(|t| t.tally.visits_planned)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let bars: Vec<_> = report
        .teams
        .iter()
        .map(|t| {
            minijinja::context! {
                name => t.name.clone(),
                planned => t.tally.visits_planned, done => t.tally.visits_done,
                planned_w => t.tally.visits_planned as f64 / most * 100.0,
                done_w => t.tally.visits_done as f64 / most * 100.0,
            }
        })
        .collect();
    let monday = Week::parse(&week).map_err(ApiError::BadRequest)?.monday();
    let ctx = base(&v, &s, Some(region.as_str()), "report");
    ok(
        "report.html",
        minijinja::context! {
            code => region.to_string(), week, bars,
            report => minijinja::Value::from_serialize(&report),
            previous => Week::containing(monday - chrono::Duration::days(7)).to_string(),
            next => Week::containing(monday + chrono::Duration::days(7)).to_string(),
            ..ctx
        },
    )
}

async fn csv(s: AppState, r: Req, code: String, q: Query) -> Result<Response, ApiError> {
    let v = visitor(&s, &r, STAFF).await?;
    let region = region_of(&v, &code)?;
    let mut q = q;
    q.insert("region".into(), region.to_string());
    crate::http::review::logs_csv(&s, &v.p, &q).await
}

async fn audit(s: AppState, r: Req, code: String) -> Result<Response, ApiError> {
    let v = visitor(&s, &r, STAFF).await?;
    let region = region_of(&v, &code)?;
    let entries = crate::services::accounts::audit_trail(&s.db, Some(&region), 200).await?;
    let items: Vec<_> = entries
        .iter()
        .map(|e| {
            minijinja::context! {
                at => e.at.format("%Y-%m-%d %H:%M:%S").to_string(), actor => e.actor.clone(),
                action => e.action.clone(), object => format!("{} {}", e.object_type, e.object_id),
                detail => e.detail.to_string(),
            }
        })
        .collect();
    let ctx = base(&v, &s, Some(region.as_str()), "audit");
    ok(
        "audit.html",
        minijinja::context! { code => region.to_string(), items, ..ctx },
    )
}

pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let region = |tail: &'static str| {
        warp::path("app")
            .and(warp::path("region"))
            .and(warp::path::param::<String>())
            .and(warp::path(tail))
            .and(warp::path::end())
    };
    vec![
        page_route(
            "GET",
            "/app/region/{code}/review",
            get_page(state, region("review"), |s, r, c, q| {
                Box::pin(queue(s, r, c, q))
            }),
        ),
        page_route(
            "GET",
            "/app/logs/{id}",
            get_page(state, warp::path!("app" / "logs" / i64), |s, r, id, q| {
                Box::pin(log_page(s, r, id, q))
            }),
        ),
        page_route(
            "POST",
            "/app/logs/{id}/review",
            post_form(
                state,
                warp::path!("app" / "logs" / i64 / "review"),
                |s, r, id, f| Box::pin(review_log(s, r, id, f)),
            ),
        ),
        page_route(
            "GET",
            "/app/region/{code}/report",
            get_page(state, region("report"), |s, r, c, q| {
                Box::pin(report(s, r, c, q))
            }),
        ),
        page_route(
            "GET",
            "/app/region/{code}/logs.csv",
            get_page(state, region("logs.csv"), |s, r, c, q| {
                Box::pin(csv(s, r, c, q))
            }),
        ),
        page_route(
            "GET",
            "/app/region/{code}/audit",
            get_page(state, region("audit"), |s, r, c, _| {
                Box::pin(audit(s, r, c))
            }),
        ),
    ]
}
