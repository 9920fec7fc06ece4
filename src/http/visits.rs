//! Planned visits and their field logs: listing and reading visits, logging them (JSON with an
//! Idempotency-Key, or the signed per-visit HTML form), manager review, CSV export, the weekly
//! summary and the audit trail.

use std::collections::BTreeMap;

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply, http::HeaderValue};

use super::auth::{ANY, require};
use super::params::{Query, auth_header, region_param, reply, with_state};
use super::{ApiError, AppState};
use crate::auth::{Principal, Role};
use crate::domain::RegionCode;
use crate::fieldlog::{FieldError, LogInput};
use crate::services::fieldlogs::{self as service, Log, Logged, VisitQuery, VisitRecord, reaches};

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("Kunjungan {id} tidak ditemukan / visit not found"))
}

pub(super) fn opt<'a>(q: &'a Query, k: &str) -> Option<&'a str> {
    q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
}

pub(super) fn region_q(q: &Query, k: &str) -> Result<Option<RegionCode>, ApiError> {
    opt(q, k).map(|r| region_param(r, k)).transpose()
}

pub(super) fn int_q(q: &Query, k: &str) -> Result<Option<i64>, ApiError> {
    opt(q, k)
        .map(|v| {
            v.parse()
                .map_err(|_| ApiError::BadRequest(format!("parameter {k}: nilai tidak sah {v:?}")))
        })
        .transpose()
}

pub(super) fn week_q(q: &Query) -> Result<Option<String>, ApiError> {
    opt(q, "week")
        .map(|w| {
            crate::services::ranking::week_start(w)
                .map(|_| w.to_string())
                .map_err(ApiError::BadRequest)
        })
        .transpose()
}

async fn visit_for(s: &AppState, p: &Principal, id: i64) -> Result<VisitRecord, ApiError> {
    service::visit(&s.db, id)
        .await?
        .filter(|v| reaches(p, v))
        .ok_or_else(|| not_found(id))
}

pub(super) fn log_json(l: &Log) -> serde_json::Value {
    let (counts, away) = (&l.counts, &l.turned_away);
    serde_json::json!({
        "id": l.id, "visit_id": l.stop_id, "revision": l.revision, "current": l.is_current,
        "plan_id": l.plan_id, "site_id": l.site_id, "team_id": l.team_id, "region": l.region_code,
        "week": l.week, "visit_date": l.visit_date, "status": l.status,
        "counts": counts, "turned_away": away,
        "check_in": l.check_in_at.map(|at| serde_json::json!({"at": at, "lat": l.check_in_lat, "lon": l.check_in_lon})),
        "check_out": l.check_out_at.map(|at| serde_json::json!({"at": at, "lat": l.check_out_lat, "lon": l.check_out_lon})),
        "notes": l.notes, "flags": l.flags,
        "logged_at": l.logged_at, "logged_by": l.logged_by,
        "review": l.review, "reviewed_by": l.reviewed_by, "reviewed_at": l.reviewed_at,
        "review_comment": l.review_comment,
    })
}

fn visit_json(v: &VisitRecord, log: Option<&Log>) -> serde_json::Value {
    let people: BTreeMap<String, f64> = serde_json::from_str(&v.stop.people).unwrap_or_default();
    serde_json::json!({
        "id": v.stop.id, "plan_id": v.plan.id, "plan_version": v.plan.version,
        "plan_status": v.plan.status, "region": v.plan.region_code, "week": v.plan.week,
        "day": v.stop.day, "seq": v.stop.seq, "part": v.stop.part, "parts": v.stop.parts,
        "arrive": v.stop.arrive, "start": v.stop.start, "end": v.stop.end,
        "travel_from_prev_s": v.stop.travel_from_prev_s, "people": people,
        "team": { "id": v.team.id, "name": v.team.name },
        "site": {
            "id": v.site.id, "name": v.site.name, "kind": v.site.kind, "address": v.site.address,
            "region": v.site.region_code, "lat": v.site.lat, "lon": v.site.lon,
        },
        "log": log.map(log_json),
    })
}

/// GET /api/v1/visits?week=&team=&region=
pub async fn list(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
    let p = require(&s, h, ANY).await?;
    let mut query = VisitQuery {
        region: region_q(&q, "region")?,
        team: int_q(&q, "team")?,
        week: week_q(&q)?,
    };
    if p.role == Role::Field {
        // A field member's listing is their team's, whatever the query says.
        if query.team.is_some_and(|t| Some(t) != p.team_id) {
            return Ok(warp::reply::json(&serde_json::json!({ "items": [] })).into_response());
        }
        query.team = p.team_id;
    }
    let (visits, logs) = service::visits(&s.db, &p, &query).await?;
    let items: Vec<_> = visits
        .iter()
        .map(|v| visit_json(v, logs.get(&v.stop.id)))
        .collect();
    Ok(warp::reply::json(&serde_json::json!({ "items": items })).into_response())
}

/// GET /api/v1/visits/{id}
pub async fn get(s: AppState, h: Option<String>, id: i64) -> Result<Response, ApiError> {
    let p = require(&s, h, ANY).await?;
    let v = visit_for(&s, &p, id).await?;
    let log = service::current_log(&s.db, &v).await?;
    Ok(warp::reply::json(&visit_json(&v, log.as_ref())).into_response())
}

/// GET /api/v1/visits/{id}/logs — every revision, oldest first.
pub async fn history(s: AppState, h: Option<String>, id: i64) -> Result<Response, ApiError> {
    let p = require(&s, h, ANY).await?;
    let v = visit_for(&s, &p, id).await?;
    let items: Vec<_> = service::history(&s.db, &v)
        .await?
        .iter()
        .map(log_json)
        .collect();
    Ok(warp::reply::json(&serde_json::json!({ "items": items })).into_response())
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
    let answer = |l: &Log| log_json(l).to_string();
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
pub async fn create_log(
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
        Logged::Created(log) => Ok(json_status(log_json(&log).to_string(), 201)),
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
pub(super) fn routes(state: &AppState) -> Vec<BoxedFilter<(Response,)>> {
    let visits = warp::path!("api" / "v1" / "visits")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
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
    vec![visits, visit, visit_logs, create_log]
}
