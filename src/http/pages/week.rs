//! The week: its versions and making a plan; the email outbox of a region with retry; a field
//! member's own week, as their email shows it.

use std::collections::HashMap;

use warp::Filter;
use warp::reply::Response;

use super::{
    Lang, Req, base, get_page, ok, post_form, poster, query_of, region_of, see_other, visitor,
};
use crate::auth::Role;
use crate::domain::{RegionCode, Week};
use crate::http::auth::{ANY, PLANNERS, STAFF};
use crate::http::params::{Query, Route, page_route, week_q};
use crate::http::{ApiError, AppState};
use crate::services::emails;
use crate::services::planning::{self, PlanOptions};

async fn week_page(s: AppState, r: Req, code: String, q: Query) -> Result<Response, ApiError> {
    let v = visitor(&s, &r, STAFF).await?;
    let region = region_of(&v, &code)?;
    let week = week_q(&q)?.unwrap_or_else(|| region.next_week(s.clock.now()).to_string());
    let versions = planning::versions(&s.db, region.as_str(), Some(&week)).await?;
    if let Some(newest) = versions.first() {
        return Ok(see_other(&format!("/app/plans/{}", newest.id)));
    }
    let ctx = base(&v, &s, Some(region.as_str()), "week");
    ok(
        "week.html",
        minijinja::context! { code => region.to_string(), week, ..ctx },
    )
}

pub(super) fn time_limit(f: &HashMap<String, String>) -> Result<Option<f64>, ApiError> {
    match f
        .get("time_limit_s")
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
    {
        None => Ok(None),
        Some(t) => match t.replace(',', ".").parse::<f64>() {
            Ok(x) if x > 0.0 && x <= crate::http::plans::MAX_PLAN_SECONDS => Ok(Some(x)),
            _ => Err(ApiError::BadRequest(format!(
                "Waktu pencarian 1–{0} detik / search time 1–{0} seconds",
                crate::http::plans::MAX_PLAN_SECONDS
            ))),
        },
    }
}

async fn make_plan(
    s: AppState,
    r: Req,
    code: String,
    f: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let v = poster(&s, &r, PLANNERS, &f).await?;
    let region = region_of(&v, &code)?;
    let week = match f.get("week").map(|w| w.trim()).filter(|w| !w.is_empty()) {
        Some(w) => Week::parse(w).map_err(ApiError::BadRequest)?.to_string(),
        None => region.next_week(s.clock.now()).to_string(),
    };
    let options = PlanOptions {
        time_limit_s: time_limit(&f)?,
        ..Default::default()
    };
    let id = planning::plan_week(&s.db, &s.ranker, &s.planner, &region, &week, &options).await?;
    Ok(see_other(&format!("/app/plans/{id}?done=made")))
}

async fn emails_page(s: AppState, r: Req, code: String, q: Query) -> Result<Response, ApiError> {
    let v = visitor(&s, &r, STAFF).await?;
    let region = region_of(&v, &code)?;
    let status = query_of(&q, "status");
    let plan = crate::http::params::id_q(&q, "plan")?;
    let rows = emails::list(
        &s.db,
        &emails::Listing {
            scope: Some(&region),
            status: status.as_deref(),
            plan,
            limit: 500,
        },
    )
    .await?;
    let mut counts: std::collections::BTreeMap<&str, usize> =
        emails::STATUSES.iter().map(|s| (*s, 0)).collect();
    for e in &rows {
        if let Some(n) = counts.get_mut(e.status.as_str()) {
            *n += 1;
        }
    }
    let items: Vec<_> = rows
        .iter()
        .rev()
        .map(|e| {
            minijinja::context! {
                id => e.id, kind => e.kind.clone(), plan_id => e.plan_id, to => e.recipient.clone(),
                subject => e.subject.clone(), status => e.status.clone(), attempts => e.attempts,
                max_attempts => e.max_attempts, error => e.last_error.clone(),
                created => e.created_at.format("%Y-%m-%d %H:%M").to_string(),
                sent => e.sent_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
                retriable => e.status == "failed" || e.status == "dead",
            }
        })
        .collect();
    let ctx = base(&v, &s, Some(region.as_str()), "emails");
    ok(
        "emails.html",
        minijinja::context! {
            code => region.to_string(), items, counts, status, plan,
            statuses => emails::STATUSES.to_vec(),
            planner => v.p.is(PLANNERS),
            ..ctx
        },
    )
}

async fn retry_email(
    s: AppState,
    r: Req,
    id: i64,
    f: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let v = poster(&s, &r, PLANNERS, &f).await?;
    let scope = crate::http::auth::scope_of(&v.p)?;
    let email = emails::retry(&s.db, scope.as_ref(), id, &v.p.actor(), chrono::Utc::now()).await?;
    s.wake.notify_one();
    Ok(see_other(&format!(
        "/app/region/{}/emails?done=retried",
        crate::services::catalog::kabupaten_of(&email.region_code)
    )))
}

async fn my_week(s: AppState, r: Req, q: Query) -> Result<Response, ApiError> {
    let v = visitor(&s, &r, ANY).await?;
    let (Role::Field, Some(team_id), Some(code)) = (&v.p.role, v.p.team_id, v.home()) else {
        return Err(ApiError::Forbidden(
            v.lang
                .t(
                    "Halaman ini untuk anggota tim lapangan.",
                    "This page is for field team members.",
                )
                .into(),
        ));
    };
    let region = RegionCode::parse(code).map_err(ApiError::Internal)?;
    let today = region.local_date(s.clock.now());
    let week = week_q(&q)?.unwrap_or_else(|| Week::containing(today).to_string());
    let monday = Week::parse(&week).map_err(ApiError::BadRequest)?.monday();
    let tz: chrono_tz::Tz = region
        .time_zone()
        .parse()
        .unwrap_or(chrono_tz::Asia::Jakarta);
    let published = planning::versions(&s.db, region.as_str(), Some(&week))
        .await?
        .into_iter()
        .find(|p| p.status == "published");
    let (days, version) = match published {
        Some(p) => {
            let view = planning::view(&s.db, p.id).await?;
            let days = view
                .as_ref()
                .map(|view| {
                    crate::services::publishing::team_days(view, team_id, Some((&s.mail.links, tz)))
                })
                .unwrap_or_default();
            (days, Some(p.version))
        }
        None => (Vec::new(), None),
    };
    let team = crate::services::catalog::teams(&s.db)
        .await?
        .into_iter()
        .find(|t| t.id == team_id)
        .map(|t| t.name)
        .unwrap_or_default();
    let en = v.lang == Lang::En;
    let ctx = base(&v, &s, None, "my-week");
    ok(
        "my_week.html",
        minijinja::context! {
            week, team, version, days => minijinja::Value::from_serialize(&days),
            previous => Week::containing(monday - chrono::Duration::days(7)).to_string(),
            next => Week::containing(monday + chrono::Duration::days(7)).to_string(),
            span => crate::email::date_range(
                if en { crate::email::Lang::En } else { crate::email::Lang::Id },
                monday,
                monday + chrono::Duration::days(5),
            ),
            ..ctx
        },
    )
}

pub(super) fn routes(state: &AppState) -> Vec<Route> {
    vec![
        page_route(
            "GET",
            "/app/region/{code}/week",
            get_page(
                state,
                warp::path!("app" / "region" / String / "week"),
                |s, r, c, q| Box::pin(week_page(s, r, c, q)),
            ),
        ),
        page_route(
            "POST",
            "/app/region/{code}/plans",
            post_form(
                state,
                warp::path!("app" / "region" / String / "plans"),
                |s, r, c, f| Box::pin(make_plan(s, r, c, f)),
            ),
        ),
        page_route(
            "GET",
            "/app/region/{code}/emails",
            get_page(
                state,
                warp::path!("app" / "region" / String / "emails"),
                |s, r, c, q| Box::pin(emails_page(s, r, c, q)),
            ),
        ),
        page_route(
            "POST",
            "/app/emails/{id}/retry",
            post_form(
                state,
                warp::path!("app" / "emails" / i64 / "retry"),
                |s, r, id, f| Box::pin(retry_email(s, r, id, f)),
            ),
        ),
        page_route(
            "GET",
            "/app/my-week",
            get_page(
                state,
                warp::path!("app" / "my-week").map(|| ()),
                |s, r, (), q| Box::pin(my_week(s, r, q)),
            ),
        ),
    ]
}
