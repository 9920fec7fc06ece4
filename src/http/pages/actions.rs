//! What a coordinator does to a week's plan from its page: pin a site to a team-day or remove a
//! pin, re-plan, publish, approve. Each is a form (with the session's CSRF token) answered by a
//! redirect back to a plan page that says what happened.

use std::collections::HashMap;

use warp::Filter;
use warp::reply::Response;

use super::{Req, get_page, post_form, poster, see_other};
use crate::http::auth::PLANNERS;
use crate::http::params::{Route, page_route};
use crate::http::{ApiError, AppState};
use crate::services::planning::{self, PinInput, PlanOptions};

fn field<T: std::str::FromStr>(f: &HashMap<String, String>, name: &str) -> Result<T, ApiError> {
    f.get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ApiError::BadRequest(format!("{name}: isian tidak sah / not valid")))
}

/// Change the week's pins with `edit` and go back to the plan saying `done`.
async fn change_pins(
    s: &AppState,
    r: &Req,
    id: i64,
    f: &HashMap<String, String>,
    edit: impl FnOnce(&mut Vec<PinInput>) -> Result<(), ApiError>,
    done: &str,
) -> Result<Response, ApiError> {
    let v = poster(s, r, PLANNERS, f).await?;
    super::plan::plan_for(s, &v, id).await?;
    let mut pins = planning::pins(&s.db, id).await?.unwrap_or_default();
    edit(&mut pins)?;
    planning::set_pins(&s.db, &s.planner, id, &pins).await?;
    Ok(see_other(&format!("/app/plans/{id}?done={done}#pins")))
}

async fn add_pin(
    s: AppState,
    r: Req,
    id: i64,
    f: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let form = f.clone();
    change_pins(
        &s,
        &r,
        id,
        &f,
        move |pins| {
            let pin = PinInput {
                site_id: field(&form, "site_id")?,
                part: form
                    .get("part")
                    .and_then(|p| p.trim().parse().ok())
                    .unwrap_or(1),
                team_id: field(&form, "team_id")?,
                day: field(&form, "day")?,
            };
            // A site's part has one pin: a new one replaces the old.
            pins.retain(|p| (p.site_id, p.part) != (pin.site_id, pin.part));
            pins.push(pin);
            Ok(())
        },
        "pinned",
    )
    .await
}

async fn remove_pin(
    s: AppState,
    r: Req,
    id: i64,
    f: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let site: i64 = field(&f, "site_id")?;
    let part: i32 = field(&f, "part")?;
    change_pins(
        &s,
        &r,
        id,
        &f,
        |pins| {
            pins.retain(|p| (p.site_id, p.part) != (site, part));
            Ok(())
        },
        "unpinned",
    )
    .await
}

async fn replan(
    s: AppState,
    r: Req,
    id: i64,
    f: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let v = poster(&s, &r, PLANNERS, &f).await?;
    let plan = super::plan::plan_for(&s, &v, id).await?;
    let region = crate::domain::RegionCode::parse(&plan.region).map_err(ApiError::Internal)?;
    let options = PlanOptions {
        time_limit_s: super::week::time_limit(&f)?,
        ..Default::default()
    };
    let today = region.local_date(s.clock.now());
    let (new_id, _) = planning::replan(&s.db, &s.ranker, &s.planner, id, today, &options).await?;
    Ok(see_other(&format!(
        "/app/plans/{new_id}?done=replanned#changes"
    )))
}

async fn publish(
    s: AppState,
    r: Req,
    id: i64,
    f: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let v = poster(&s, &r, PLANNERS, &f).await?;
    super::plan::plan_for(&s, &v, id).await?;
    let outcome = crate::services::publishing::publish(&s.db, &s.mail, id, &v.p.actor()).await?;
    if outcome.emails_queued > 0 {
        s.wake.notify_one();
    }
    Ok(see_other(&format!(
        "/app/plans/{id}?done=published&queued={}",
        outcome.emails_queued
    )))
}

async fn approve(
    s: AppState,
    r: Req,
    id: i64,
    f: HashMap<String, String>,
) -> Result<Response, ApiError> {
    use crate::services::publishing::{self, ApproveError};
    let v = poster(&s, &r, PLANNERS, &f).await?;
    super::plan::plan_for(&s, &v, id).await?;
    match publishing::approve(&s.db, id, &v.p.actor()).await {
        Ok(_) => Ok(see_other(&format!("/app/plans/{id}?done=approved"))),
        Err(ApproveError::NotFound(_)) => Err(ApiError::NotFound(format!(
            "Rencana {id} tidak ditemukan / plan not found"
        ))),
        Err(e @ ApproveError::Superseded { .. }) => Err(ApiError::Conflict(e.to_string())),
        Err(ApproveError::Store(e)) => Err(e.into()),
    }
}

fn post(state: &AppState, path: &'static str, name: &'static str, action: ActionFn) -> Route {
    let at = warp::path("app")
        .and(warp::path("plans"))
        .and(warp::path::param::<i64>())
        .and(warp::path(name))
        .and(warp::path::end());
    page_route("POST", path, post_form(state, at, action))
}

type ActionFn = fn(AppState, Req, i64, HashMap<String, String>) -> super::Answer;

pub(super) fn routes(state: &AppState) -> Vec<Route> {
    vec![
        page_route(
            "GET",
            "/app/plans/{id}",
            get_page(state, warp::path!("app" / "plans" / i64), |s, r, id, q| {
                Box::pin(super::plan::plan_page(s, r, id, q))
            }),
        ),
        post(state, "/app/plans/{id}/pins", "pins", |s, r, id, f| {
            Box::pin(add_pin(s, r, id, f))
        }),
        post(state, "/app/plans/{id}/unpin", "unpin", |s, r, id, f| {
            Box::pin(remove_pin(s, r, id, f))
        }),
        post(state, "/app/plans/{id}/replan", "replan", |s, r, id, f| {
            Box::pin(replan(s, r, id, f))
        }),
        post(
            state,
            "/app/plans/{id}/publish",
            "publish",
            |s, r, id, f| Box::pin(publish(s, r, id, f)),
        ),
        post(
            state,
            "/app/plans/{id}/approve",
            "approve",
            |s, r, id, f| Box::pin(approve(s, r, id, f)),
        ),
    ]
}
