//! Planned visits and their field logs: listing and reading visits, logging them (JSON with an
//! Idempotency-Key, or the signed per-visit HTML form), manager review, CSV export, the weekly
//! summary and the audit trail.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply, http::HeaderValue};

use super::auth::{ANY, REVIEWERS, STAFF, require, scope_of};
use super::params::{Query, auth_header, json_body, region_param, reply, with_state};
use super::{ApiError, AppState};
use crate::auth::{LinkError, Principal, Role};
use crate::domain::RegionCode;
use crate::fieldlog::{self, FieldError, Flag, LogInput, Status};
use crate::services::fieldlogs::{
    self as service, Log, LogQuery, Logged, Reviewed, VisitQuery, VisitRecord, reaches,
};

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("Kunjungan {id} tidak ditemukan / visit not found"))
}

fn opt<'a>(q: &'a Query, k: &str) -> Option<&'a str> {
    q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn region_q(q: &Query, k: &str) -> Result<Option<RegionCode>, ApiError> {
    opt(q, k).map(|r| region_param(r, k)).transpose()
}

fn int_q(q: &Query, k: &str) -> Result<Option<i64>, ApiError> {
    opt(q, k)
        .map(|v| {
            v.parse()
                .map_err(|_| ApiError::BadRequest(format!("parameter {k}: nilai tidak sah {v:?}")))
        })
        .transpose()
}

fn week_q(q: &Query) -> Result<Option<String>, ApiError> {
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

fn log_json(l: &Log) -> serde_json::Value {
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
async fn facts(s: &AppState, v: &VisitRecord) -> Result<crate::fieldlog::VisitFacts, ApiError> {
    Ok(service::facts(&s.db, v, &s.auth.minutes_per_person).await?)
}

/// Log a visit through the service, its JSON answer saved for replays.
async fn write_log(
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

fn json_status(body: String, status: u16) -> Response {
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

fn invalid(errors: Vec<FieldError>) -> ApiError {
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

// ---------------------------------------------------------------------------------------------
// The signed per-visit form

fn html(status: StatusCode, body: String) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The page holds a capability in its URL: keep it out of caches and referrers.
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    resp
}

fn lang_q(q: &Query) -> &'static str {
    if opt(q, "lang") == Some("en") {
        "en"
    } else {
        "id"
    }
}

fn link_error_page(lang: &str, e: LinkError, tz: chrono_tz::Tz) -> Response {
    let en = lang == "en";
    match e {
        LinkError::Invalid => html(
            StatusCode::NOT_FOUND,
            fieldlog::render_error(
                lang,
                if en {
                    "Link not valid"
                } else {
                    "Tautan tidak berlaku"
                },
                if en {
                    "This link is not valid. Use the link in your latest schedule email."
                } else {
                    "Tautan ini tidak berlaku. Gunakan tautan di email jadwal terbaru."
                },
                None,
            ),
        ),
        LinkError::Expired(claims) => {
            let until = chrono::DateTime::from_timestamp(claims.expires, 0)
                .map(|t| {
                    let local = t.with_timezone(&tz);
                    let l = if en {
                        crate::email::Lang::En
                    } else {
                        crate::email::Lang::Id
                    };
                    format!(
                        "{} {}",
                        crate::email::long_date(l, local.date_naive()),
                        local.format("%H.%M WIB")
                    )
                })
                .unwrap_or_default();
            html(
                StatusCode::GONE,
                fieldlog::render_error(
                    lang,
                    if en {
                        "Link expired"
                    } else {
                        "Tautan kedaluwarsa"
                    },
                    &if en {
                        format!(
                            "Reports through this link were accepted until {until}. Ask your coordinator to record it."
                        )
                    } else {
                        format!(
                            "Laporan lewat tautan ini diterima sampai {until}. Minta koordinator untuk mencatatnya."
                        )
                    },
                    None,
                ),
            )
        }
    }
}

async fn link_visit(
    s: &AppState,
    token: &str,
    lang: &str,
) -> Result<Result<VisitRecord, Response>, ApiError> {
    let claims = match crate::auth::verify_link(
        s.auth.link_secret.expose(),
        token,
        s.clock.now().timestamp(),
    ) {
        Ok(c) => c,
        Err(e) => return Ok(Err(link_error_page(lang, e, chrono_tz::Asia::Jakarta))),
    };
    match service::visit(&s.db, claims.stop_id).await? {
        Some(v) if v.team.id == claims.team_id => Ok(Ok(v)),
        _ => Ok(Err(link_error_page(
            lang,
            LinkError::Invalid,
            chrono_tz::Asia::Jakarta,
        ))),
    }
}

/// The visit as the form shows it; `kecamatan` is the name of the site's kecamatan.
fn form_visit(v: &VisitRecord, lang: &str, kecamatan: Option<&str>) -> fieldlog::FormVisit {
    let l = if lang == "en" {
        crate::email::Lang::En
    } else {
        crate::email::Lang::Id
    };
    fieldlog::FormVisit {
        site_name: v.site.name.clone(),
        site_kind: crate::email::kind_label(l, &v.site.kind),
        address: crate::email::address_with_kecamatan(l, &v.site.address, kecamatan),
        date: crate::email::long_date(l, v.stop.day),
        start: crate::email::hhmm(&v.stop.start),
        end: crate::email::hhmm(&v.stop.end),
        team_name: v.team.name.clone(),
        osm_url: format!(
            "https://www.openstreetmap.org/?mlat={:.6}&mlon={:.6}#map=17/{:.6}/{:.6}",
            v.site.lat, v.site.lon, v.site.lat, v.site.lon
        ),
    }
}

fn expected(v: &VisitRecord, lang: &str) -> Vec<fieldlog::Expected> {
    let people: BTreeMap<String, f64> = serde_json::from_str(&v.stop.people).unwrap_or_default();
    people
        .iter()
        .filter(|(_, n)| **n >= 0.5)
        .map(|(k, n)| fieldlog::Expected {
            label: fieldlog::SERVICES
                .iter()
                .find(|s| s.0 == k)
                .map(|s| if lang == "en" { s.2 } else { s.1 })
                .unwrap_or(k)
                .to_string(),
            people: n.round() as i64,
        })
        .collect()
}

/// The form's own address (it posts to itself, keeping the language).
fn form_url(token: &str, lang: &str) -> String {
    format!("/v/{token}{}", if lang == "en" { "?lang=en" } else { "" })
}

/// The name of the kecamatan the visit's site is in.
async fn kecamatan_of(s: &AppState, v: &VisitRecord) -> Result<Option<String>, ApiError> {
    Ok(crate::services::catalog::kecamatan_name(&s.db, &v.site.region_code).await?)
}

/// The form page: filled with `typed` (a rejected submission, as the reader typed it) or else
/// with the visit's current log.
#[allow(clippy::too_many_arguments)]
async fn form_page(
    s: &AppState,
    v: &VisitRecord,
    tz: chrono_tz::Tz,
    token: &str,
    lang: &str,
    status: StatusCode,
    typed: Option<BTreeMap<String, String>>,
    errors: &[FieldError],
) -> Result<Response, ApiError> {
    let current = service::current_log(&s.db, v).await?;
    let values = typed.or_else(|| {
        current
            .as_ref()
            .map(|l| fieldlog::form_values(&l.input(), tz))
    });
    let logged_at = current.as_ref().map(|l| {
        l.logged_at
            .with_timezone(&tz)
            .format("%d-%m-%Y %H.%M")
            .to_string()
    });
    let page = fieldlog::render_form(
        lang,
        &form_url(token, lang),
        &crate::auth::random_key(),
        &form_visit(v, lang, kecamatan_of(s, v).await?.as_deref()),
        &expected(v, lang),
        values.as_ref(),
        logged_at.as_deref(),
        errors,
    );
    Ok(html(status, page))
}

/// GET /v/{token} — the visit's report form (no password: the signed link is the credential).
pub async fn form(s: AppState, token: String, q: Query) -> Result<Response, ApiError> {
    let lang = lang_q(&q);
    let v = match link_visit(&s, &token, lang).await? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let tz = facts(&s, &v).await?.time_zone;
    form_page(&s, &v, tz, &token, lang, StatusCode::OK, None, &[]).await
}

/// POST /v/{token} — save the form as a new revision of the visit's log.
pub async fn submit(
    s: AppState,
    token: String,
    q: Query,
    form: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let lang = lang_q(&q);
    let v = match link_visit(&s, &token, lang).await? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let facts = facts(&s, &v).await?;
    let input = match fieldlog::parse_form(&form, v.stop.day, facts.time_zone, lang) {
        Ok(i) => i,
        Err(errors) => {
            // Back with everything as it was typed (not the stored log: saving that again
            // would make the old values a new revision).
            return form_page(
                &s,
                &v,
                facts.time_zone,
                &token,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(fieldlog::typed_values(&form)),
                &errors,
            )
            .await;
        }
    };
    // The form carries a key made when it was shown: a double tap or a resend logs once.
    let key = form
        .get("idem")
        .map(|k| k.trim())
        .filter(|k| !k.is_empty() && k.len() <= 64)
        .map(str::to_string)
        .unwrap_or_else(crate::auth::random_key);
    let scope = format!("link:{}:{}", v.team.id, v.stop.id);
    let actor = format!("link:team:{}", v.team.id);
    let back = form_url(&token, lang);
    let log = match write_log(&s, &v, &facts, &input, &scope, &key, &actor).await? {
        Logged::Created(log) => *log,
        Logged::Replay { body, .. } => {
            let id = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|b| b["id"].as_i64())
                .unwrap_or_default();
            match service::log(&s.db, id).await? {
                Some(l) => l,
                None => return Err(ApiError::Internal("replayed log vanished".into())),
            }
        }
        Logged::Mismatch | Logged::InProgress => {
            let en = lang == "en";
            return Ok(html(
                StatusCode::CONFLICT,
                fieldlog::render_error(
                    lang,
                    if en { "Already sent" } else { "Sudah terkirim" },
                    if en {
                        "This form was already sent with other values. Open the form again to change the report."
                    } else {
                        "Formulir ini sudah terkirim dengan isian lain. Buka formulirnya lagi untuk mengubah laporan."
                    },
                    Some((
                        back.as_str(),
                        if en {
                            "Open the form again"
                        } else {
                            "Buka formulir lagi"
                        },
                    )),
                ),
            ));
        }
    };
    let flags: Vec<Flag> = log.flags.iter().filter_map(|f| Flag::parse(f)).collect();
    Ok(html(
        StatusCode::OK,
        fieldlog::render_done(
            lang,
            &form_visit(&v, lang, kecamatan_of(&s, &v).await?.as_deref()),
            log.revision,
            // What the stored revision holds (a replayed submission shows the first one's).
            &log.input(),
            facts.time_zone,
            &flags,
            &back,
        ),
    ))
}

// ---------------------------------------------------------------------------------------------
// Review

fn log_query(p: &Principal, q: &Query) -> Result<LogQuery, ApiError> {
    let status = opt(q, "status")
        .map(|v| {
            Status::parse(v)
                .map(|s| s.as_str().to_string())
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "parameter status: selesai, sebagian, batal, tidak_hadir".into(),
                    )
                })
        })
        .transpose()?;
    let flag = opt(q, "flag")
        .map(|v| {
            Flag::parse(v)
                .map(|f| f.as_str().to_string())
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "parameter flag: far_check_in, over_capacity, late, zero_output".into(),
                    )
                })
        })
        .transpose()?;
    let review = opt(q, "review")
        .map(|v| match v {
            "pending" | "approved" | "rejected" => Ok(v.to_string()),
            _ => Err(ApiError::BadRequest(
                "parameter review: pending, approved, rejected".into(),
            )),
        })
        .transpose()?;
    let limit = int_q(q, "limit")?.unwrap_or(500);
    if !(1..=5000).contains(&limit) {
        return Err(ApiError::BadRequest("parameter limit: 1..5000".into()));
    }
    Ok(LogQuery {
        scope: scope_of(p)?,
        region: region_q(q, "region")?,
        team: int_q(q, "team")?,
        week: week_q(q)?,
        status,
        flag,
        review,
        limit: limit as u64,
    })
}

/// GET /api/v1/visit-logs?region=&team=&week=&status=&flag=&review=
pub async fn list_logs(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let query = log_query(&p, &q)?;
    let items: Vec<_> = service::logs(&s.db, &query)
        .await?
        .iter()
        .map(log_json)
        .collect();
    Ok(warp::reply::json(&serde_json::json!({ "items": items })).into_response())
}

/// Excel reads `=`, `+`, `-` and `@` at the start of a cell as a formula: defuse free text.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// GET /api/v1/visit-logs.csv — the same rows as a spreadsheet (UTF-8 with BOM, CRLF).
pub async fn export_csv(s: AppState, h: Option<String>, q: Query) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let query = log_query(&p, &q)?;
    let logs = service::logs(&s.db, &query).await?;
    let site_ids: Vec<i64> = logs.iter().map(|l| l.site_id).collect();
    let names = crate::services::catalog::site_names(&s.db, &site_ids).await?;
    let teams: HashMap<i64, String> = crate::services::catalog::teams(&s.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut header = vec![
        "id", "tanggal", "minggu", "wilayah", "tim", "situs_id", "situs", "status",
    ];
    header.extend(fieldlog::SERVICES.iter().map(|s| s.0));
    header.extend([
        "ditolak",
        "check_in",
        "check_out",
        "tanda",
        "review",
        "direview_oleh",
        "revisi",
        "catatan",
    ]);
    let io = |e: csv::Error| ApiError::Internal(format!("csv: {e}"));
    w.write_record(&header).map_err(io)?;
    for l in &logs {
        let input = l.input();
        let mut row = vec![
            l.id.to_string(),
            l.visit_date.to_string(),
            l.week.clone(),
            l.region_code.clone(),
            cell(
                teams
                    .get(&l.team_id)
                    .map(String::as_str)
                    .unwrap_or_default(),
            ),
            l.site_id.to_string(),
            cell(
                names
                    .get(&l.site_id)
                    .map(String::as_str)
                    .unwrap_or_default(),
            ),
            l.status.clone(),
        ];
        row.extend(
            fieldlog::SERVICES
                .iter()
                .map(|s| input.counts.get(s.0).copied().unwrap_or(0).to_string()),
        );
        row.extend([
            input.turned_away.values().sum::<u32>().to_string(),
            l.check_in_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            l.check_out_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            l.flags.join(";"),
            l.review.clone(),
            cell(l.reviewed_by.as_deref().unwrap_or_default()),
            l.revision.to_string(),
            cell(&l.notes),
        ]);
        w.write_record(&row).map_err(io)?;
    }
    let mut body = vec![0xEF, 0xBB, 0xBF];
    body.extend(
        w.into_inner()
            .map_err(|e| ApiError::Internal(format!("csv: {e}")))?,
    );
    let mut resp = Response::new(body.into());
    let hd = resp.headers_mut();
    hd.insert(
        "content-type",
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    hd.insert(
        "content-disposition",
        HeaderValue::from_static("attachment; filename=\"laporan-kunjungan.csv\""),
    );
    Ok(resp)
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    decision: String,
    #[serde(default)]
    comment: String,
}

/// POST /api/v1/visit-logs/{id}/review
pub async fn review(
    s: AppState,
    h: Option<String>,
    id: i64,
    body: ReviewRequest,
) -> Result<Response, ApiError> {
    let p = require(&s, h, REVIEWERS).await?;
    let approve = match body.decision.trim() {
        "approve" | "setuju" => true,
        "reject" | "tolak" => false,
        _ => {
            return Err(invalid(vec![FieldError {
                field: "decision".into(),
                message: "approve atau reject / approve or reject".into(),
            }]));
        }
    };
    if body.comment.chars().count() > 2000 {
        return Err(invalid(vec![FieldError {
            field: "comment".into(),
            message: "maksimal 2000 karakter / at most 2000 characters".into(),
        }]));
    }
    let log_not_found =
        || ApiError::NotFound(format!("Laporan {id} tidak ditemukan / log not found"));
    match service::review(&s.db, &p, id, approve, body.comment.trim(), Utc::now()).await? {
        Reviewed::NotFound => Err(log_not_found()),
        Reviewed::NotCurrent => Err(ApiError::Conflict(
            "Ada revisi yang lebih baru / a newer revision exists".into(),
        )),
        Reviewed::Already(r) => Err(ApiError::Conflict(format!(
            "Laporan sudah direview ({r}) / already reviewed"
        ))),
        Reviewed::Done(l) => Ok(warp::reply::json(&log_json(&l)).into_response()),
    }
}

// ---------------------------------------------------------------------------------------------
// Weekly summary

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

/// Visits and their logs, the per-visit form, review, the weekly report, the audit trail.
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
    let log_list = warp::path!("api" / "v1" / "visit-logs")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(list_logs(s, h, q).await) })
        .boxed();
    let log_csv = warp::path!("api" / "v1" / "visit-logs.csv")
        .and(warp::get())
        .and(auth_header())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(export_csv(s, h, q).await) })
        .boxed();
    let review = warp::path!("api" / "v1" / "visit-logs" / i64 / "review")
        .and(warp::post())
        .and(warp::body::content_length_limit(16 * 1024))
        .and(auth_header())
        .and(json_body::<ReviewRequest>())
        .and(with_state(state.clone()))
        .and_then(
            |id: i64, h, body, s: AppState| async move { reply(review(s, h, id, body).await) },
        )
        .boxed();
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
    let form = warp::path!("v" / String)
        .and(warp::get())
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
        .and_then(|t: String, q: Query, s: AppState| async move { reply(form(s, t, q).await) })
        .boxed();
    let submit = warp::path!("v" / String)
        .and(warp::post())
        .and(warp::body::content_length_limit(64 * 1024))
        .and(warp::query::<Query>())
        .and(warp::body::bytes())
        .and(with_state(state.clone()))
        .and_then(
            |t: String, q: Query, body: bytes::Bytes, s: AppState| async move {
                // A form body that does not decode is an empty form: the page then names the
                // missing fields instead of failing bare.
                let form: HashMap<String, String> =
                    serde_urlencoded::from_bytes(&body).unwrap_or_default();
                reply(submit(s, t, q, form).await)
            },
        )
        .boxed();
    vec![
        visits, visit, visit_logs, create_log, log_list, log_csv, review, weekly, audit, form,
        submit,
    ]
}
