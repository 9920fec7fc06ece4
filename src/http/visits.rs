//! Planned visits and their field logs: listing and reading visits, logging them (JSON with an
//! Idempotency-Key, or the signed per-visit HTML form), manager review, CSV export, the weekly
//! summary and the audit trail.

use std::collections::BTreeMap;

use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply, http::HeaderValue};

use super::auth::{ANY, require};
use super::params::{
    Query, Route, auth_header, id_q, json, query, region_q, reply, route, week_q, with_state,
};
use super::schemas::{
    BadRequest, Conflict, Denied, IdempotencyKey, Invalid, NotFound, PayloadTooLarge,
};
use super::{ApiError, AppState};
use crate::auth::{Principal, Role};
use crate::domain::{RegionCode, Week};
use crate::fieldlog::{FieldError, LogInput};
use crate::services::fieldlogs::{self as service, Log, Logged, VisitQuery, VisitRecord, reaches};

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("Kunjungan {id} tidak ditemukan / visit not found"))
}

async fn visit_for(s: &AppState, p: &Principal, id: i64) -> Result<VisitRecord, ApiError> {
    service::visit(&s.db, id)
        .await?
        .filter(|v| reaches(p, v))
        .ok_or_else(|| not_found(id))
}

/// A check-in or check-out: when, and where when the phone gave a position.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct CheckPoint {
    at: chrono::DateTime<chrono::Utc>,
    lat: Option<f64>,
    lon: Option<f64>,
}

/// One revision of a visit's log.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = VisitLog)]
pub(super) struct LogView {
    id: i64,
    visit_id: i64,
    revision: i32,
    /// The visit's latest revision.
    current: bool,
    plan_id: i64,
    site_id: i64,
    team_id: i64,
    region: String,
    week: String,
    visit_date: chrono::NaiveDate,
    #[schema(value_type = crate::fieldlog::Status)]
    status: String,
    /// Services delivered, per kind.
    counts: BTreeMap<String, u32>,
    /// People turned away, per reason.
    turned_away: BTreeMap<String, u32>,
    check_in: Option<CheckPoint>,
    check_out: Option<CheckPoint>,
    notes: String,
    /// What a reviewer should look at twice.
    #[schema(value_type = Vec<crate::fieldlog::Flag>)]
    flags: Vec<String>,
    logged_at: chrono::DateTime<chrono::Utc>,
    logged_by: String,
    /// `pending`, `approved` or `rejected`.
    review: String,
    reviewed_by: Option<String>,
    reviewed_at: Option<chrono::DateTime<chrono::Utc>>,
    review_comment: Option<String>,
}

impl From<&Log> for LogView {
    fn from(l: &Log) -> Self {
        let point = |at: Option<chrono::DateTime<chrono::Utc>>, lat, lon| {
            at.map(|at| CheckPoint { at, lat, lon })
        };
        LogView {
            id: l.id,
            visit_id: l.stop_id,
            revision: l.revision,
            current: l.is_current,
            plan_id: l.plan_id,
            site_id: l.site_id,
            team_id: l.team_id,
            region: l.region_code.clone(),
            week: l.week.clone(),
            visit_date: l.visit_date,
            status: l.status.clone(),
            counts: l.counts.clone(),
            turned_away: l.turned_away.clone(),
            check_in: point(l.check_in_at, l.check_in_lat, l.check_in_lon),
            check_out: point(l.check_out_at, l.check_out_lat, l.check_out_lon),
            notes: l.notes.clone(),
            flags: l.flags.clone(),
            logged_at: l.logged_at,
            logged_by: l.logged_by.clone(),
            review: l.review.clone(),
            reviewed_by: l.reviewed_by.clone(),
            reviewed_at: l.reviewed_at,
            review_comment: l.review_comment.clone(),
        }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct LogList {
    items: Vec<LogView>,
}

impl LogList {
    pub(super) fn of(logs: &[Log]) -> Self {
        LogList {
            items: logs.iter().map(LogView::from).collect(),
        }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct VisitTeam {
    id: i64,
    name: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct VisitSite {
    id: i64,
    name: String,
    kind: String,
    address: String,
    region: String,
    lat: f64,
    lon: f64,
}

/// A planned visit: one stop of a team-day in a plan version, with its current log.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = Visit)]
pub(super) struct VisitView {
    id: i64,
    plan_id: i64,
    plan_version: i32,
    plan_status: String,
    region: String,
    week: String,
    day: chrono::NaiveDate,
    seq: i32,
    part: i32,
    parts: i32,
    arrive: String,
    start: String,
    end: String,
    travel_from_prev_s: i32,
    /// Expected people per indicator.
    people: BTreeMap<String, f64>,
    team: VisitTeam,
    site: VisitSite,
    log: Option<LogView>,
}

impl VisitView {
    fn of(v: &VisitRecord, log: Option<&Log>) -> Self {
        VisitView {
            id: v.stop.id,
            plan_id: v.plan.id,
            plan_version: v.plan.version,
            plan_status: v.plan.status.clone(),
            region: v.plan.region_code.clone(),
            week: v.plan.week.clone(),
            day: v.stop.day,
            seq: v.stop.seq,
            part: v.stop.part,
            parts: v.stop.parts,
            arrive: v.stop.arrive.clone(),
            start: v.stop.start.clone(),
            end: v.stop.end.clone(),
            travel_from_prev_s: v.stop.travel_from_prev_s,
            people: v.stop.people.clone(),
            team: VisitTeam {
                id: v.team.id,
                name: v.team.name.clone(),
            },
            site: VisitSite {
                id: v.site.id,
                name: v.site.name.clone(),
                kind: v.site.kind.clone(),
                address: v.site.address.clone(),
                region: v.site.region_code.clone(),
                lat: v.site.lat,
                lon: v.site.lon,
            },
            log: log.map(LogView::from),
        }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct VisitList {
    items: Vec<VisitView>,
}

/// GET /api/v1/visits?week=&team=&region=
#[utoipa::path(get, path = "/api/v1/visits", tag = "visits", operation_id = "listVisits",
    security(("bearerAuth" = [])),
    params(
        ("week" = Option<Week>, Query, description = "Only this week."),
        ("team" = Option<i64>, Query, minimum = 1, description = "Only this team's visits."),
        ("region" = Option<RegionCode>, Query, description = "Only visits within this region."),
    ),
    responses(
        (status = 200, description = "The visits the caller reaches (a field member: their \
            team's), in published and draft plans.", body = VisitList),
        (status = 400, response = BadRequest),
        Denied,
    ))]
pub(super) async fn list(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
    let p = require(&s, h, ANY).await?;
    let mut query = VisitQuery {
        region: region_q(&q, "region")?,
        team: id_q(&q, "team")?,
        week: week_q(&q)?,
    };
    if p.role == Role::Field {
        // A field member's listing is their team's, whatever the query says.
        if query.team.is_some_and(|t| Some(t) != p.team_id) {
            return Ok(json(&VisitList { items: Vec::new() }));
        }
        query.team = p.team_id;
    }
    let (visits, logs) = service::visits(&s.db, &p, &query).await?;
    let items = visits
        .iter()
        .map(|v| VisitView::of(v, logs.get(&v.stop.id)))
        .collect();
    Ok(json(&VisitList { items }))
}

/// GET /api/v1/visits/{id}
#[utoipa::path(get, path = "/api/v1/visits/{id}", tag = "visits", operation_id = "getVisit",
    security(("bearerAuth" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "The visit with its current log.", body = VisitView),
        (status = 404, response = NotFound),
        Denied,
    ))]
pub(super) async fn get(s: AppState, h: Option<String>, id: i64) -> Result<Response, ApiError> {
    let p = require(&s, h, ANY).await?;
    let v = visit_for(&s, &p, id).await?;
    let log = service::current_log(&s.db, &v).await?;
    Ok(json(&VisitView::of(&v, log.as_ref())))
}

/// GET /api/v1/visits/{id}/logs — every revision, oldest first.
#[utoipa::path(get, path = "/api/v1/visits/{id}/logs", tag = "visits",
    operation_id = "listVisitLogs",
    security(("bearerAuth" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Every revision of the visit's log, oldest first.",
            body = LogList),
        (status = 404, response = NotFound),
        Denied,
    ))]
pub(super) async fn history(s: AppState, h: Option<String>, id: i64) -> Result<Response, ApiError> {
    let p = require(&s, h, ANY).await?;
    let v = visit_for(&s, &p, id).await?;
    Ok(json(&LogList::of(&service::history(&s.db, &v).await?)))
}

/// What the flags of a visit's log are measured against (`service::facts`).
pub(super) async fn facts(
    s: &AppState,
    v: &VisitRecord,
) -> Result<crate::fieldlog::VisitFacts, ApiError> {
    Ok(service::facts(&s.db, v, &s.auth.minutes_per_person).await?)
}

/// Log a visit through the service, its JSON answer saved for replays.
pub(super) async fn write_log(
    s: &AppState,
    v: &VisitRecord,
    facts: &crate::fieldlog::VisitFacts,
    input: &LogInput,
    scope: &str,
    key: &str,
    actor: &str,
) -> Result<Logged, ApiError> {
    let req = service::Request {
        scope,
        key,
        actor,
        ttl: s.auth.idempotency_ttl,
    };
    let rules = &s.auth.flag_rules;
    let today = s.clock.now();
    let answer = |l: &Log| serde_json::to_string(&LogView::from(l)).unwrap_or_default();
    Ok(service::log_visit(&s.db, v, facts, rules, input, &req, today, answer).await?)
}

pub(super) fn json_status(body: String, status: u16) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

fn key_of(header: Option<String>) -> Result<String, ApiError> {
    match header.map(|k| k.trim().to_string()) {
        Some(k) if !k.is_empty() && k.len() <= 64 && k.chars().all(|c| c.is_ascii_graphic()) => {
            Ok(k)
        }
        Some(_) => Err(ApiError::BadRequest(
            "Idempotency-Key: 1..64 karakter ASCII / 1..64 ASCII characters".into(),
        )),
        None => Err(ApiError::BadRequest(
            "header Idempotency-Key wajib / the Idempotency-Key header is required".into(),
        )),
    }
}

pub(super) fn invalid(errors: Vec<FieldError>) -> ApiError {
    ApiError::Invalid {
        message: "Laporan tidak sah / invalid report".into(),
        errors,
    }
}

/// POST /api/v1/visits/{id}/logs — a new revision (201); a retry with the same key replays it.
#[utoipa::path(post, path = "/api/v1/visits/{id}/logs", tag = "visits",
    operation_id = "createVisitLog",
    security(("bearerAuth" = [])),
    params(
        ("id" = i64, Path, minimum = 1),
        ("Idempotency-Key" = IdempotencyKey, Header,
            description = "A retry with the same key and body is answered from the first."),
    ),
    request_body = crate::fieldlog::LogInput,
    responses(
        (status = 201, description = "A new revision of the visit's log.", body = LogView),
        (status = 200, description = "A replay of an earlier request with this key \
            (`Idempotent-Replayed: true`).", body = LogView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Invalid),
        Denied,
    ))]
pub(super) async fn create_log(
    s: AppState,
    h: Option<String>,
    key: Option<String>,
    id: i64,
    body: bytes::Bytes,
) -> Result<Response, ApiError> {
    let p = require(&s, h, &[Role::Admin, Role::Coordinator, Role::Field]).await?;
    let v = visit_for(&s, &p, id).await?;
    let key = key_of(key)?;
    let input: LogInput = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!("Isi JSON tidak sah / invalid JSON body: {e}"))
    })?;
    input.validate().map_err(invalid)?;
    let facts = facts(&s, &v).await?;
    match write_log(
        &s,
        &v,
        &facts,
        &input,
        &format!("user:{}", p.user_id),
        &key,
        &p.actor(),
    )
    .await?
    {
        Logged::Created(log) => Ok(warp::reply::with_status(
            json(&LogView::from(&*log)),
            StatusCode::CREATED,
        )
        .into_response()),
        Logged::Replay { status, body } => {
            let mut resp = json_status(body, status);
            resp.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(resp)
        }
        Logged::Mismatch => Err(invalid(vec![FieldError {
            field: "Idempotency-Key".into(),
            message:
                "kunci sudah dipakai untuk laporan lain / key already used for a different request"
                    .into(),
        }])),
        Logged::InProgress => Err(ApiError::Conflict(
            "Permintaan dengan kunci ini masih diproses / a request with this key is in progress"
                .into(),
        )),
    }
}

/// GET /api/v1/visits, /api/v1/visits/{id} and its logs; POST a log.
pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let visits = warp::path!("api" / "v1" / "visits")
        .and(warp::get())
        .and(auth_header())
        .and(query())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(list(s, h, q).await) })
        .boxed();
    let visit = warp::path!("api" / "v1" / "visits" / i64)
        .and(warp::get())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, s: AppState| async move { reply(get(s, h, id).await) })
        .boxed();
    let visit_logs = warp::path!("api" / "v1" / "visits" / i64 / "logs")
        .and(warp::get())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, s: AppState| async move { reply(history(s, h, id).await) })
        .boxed();
    let create_log = warp::path!("api" / "v1" / "visits" / i64 / "logs")
        .and(warp::post())
        .and(warp::body::content_length_limit(64 * 1024))
        .and(auth_header())
        .and(warp::header::optional::<String>("idempotency-key"))
        .and(warp::body::bytes())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, key, body, s: AppState| async move {
            reply(create_log(s, h, key, id, body).await)
        })
        .boxed();
    vec![
        route("GET", "/api/v1/visits", visits),
        route("GET", "/api/v1/visits/{id}", visit),
        route("GET", "/api/v1/visits/{id}/logs", visit_logs),
        route("POST", "/api/v1/visits/{id}/logs", create_log),
    ]
}
