//! The log queue managers review: list, CSV export, approve or reject.

use std::collections::HashMap;

use chrono::Utc;
use warp::reply::Response;
use warp::{Filter, http::HeaderValue};

use super::auth::{REVIEWERS, STAFF, require, scope_of};
use super::params::{Query, Route, auth_header, json, json_body, query, reply, route, with_state};
use super::params::{id_q, int_q, opt, region_q, week_q};
use super::schemas::{BadRequest, Conflict, Denied, Invalid, NotFound, PayloadTooLarge};
use super::visits::{LogList, LogView, invalid};
use super::{ApiError, AppState};
use crate::auth::Principal;
use crate::domain::{RegionCode, Week};
use crate::fieldlog::{self, FieldError, Flag, Status};
use crate::services::fieldlogs::{self as service, LogQuery, Reviewed};

/// The filters of the log queue, for the document: `log_query` reads them from the query string
/// with messages in Bahasa Indonesia, so this struct is never built.
#[derive(utoipa::IntoParams)]
#[expect(dead_code, reason = "describes the query string that log_query parses")]
#[into_params(parameter_in = Query)]
pub struct LogFilter {
    region: Option<RegionCode>,
    /// Only this team's logs.
    #[param(minimum = 1)]
    team: Option<i64>,
    week: Option<Week>,
    status: Option<Status>,
    /// Only logs with this flag.
    flag: Option<Flag>,
    /// `pending`, `approved` or `rejected`.
    #[param(pattern = "^(pending|approved|rejected)$")]
    review: Option<String>,
    /// How many, newest first (default 500).
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<i64>,
}

pub(super) fn log_query(p: &Principal, q: &Query) -> Result<LogQuery, ApiError> {
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
        team: id_q(q, "team")?,
        week: week_q(q)?,
        status,
        flag,
        review,
        limit: limit as u64,
    })
}

/// GET /api/v1/visit-logs?region=&team=&week=&status=&flag=&review=
#[utoipa::path(get, path = "/api/v1/visit-logs", tag = "review", operation_id = "listLogs",
    security(("bearerAuth" = [])),
    params(LogFilter),
    responses(
        (status = 200, description = "The current revision of each matching log, newest first.",
            body = LogList),
        (status = 400, response = BadRequest),
        Denied,
    ))]
pub(super) async fn list_logs(
    s: AppState,
    h: Option<String>,
    q: Query,
) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let query = log_query(&p, &q)?;
    Ok(json(&LogList::of(&service::logs(&s.db, &query).await?)))
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
#[utoipa::path(get, path = "/api/v1/visit-logs.csv", tag = "review",
    operation_id = "exportLogsCsv",
    security(("bearerAuth" = [])),
    params(LogFilter),
    responses(
        (status = 200, description = "The same rows as CSV with a header row.",
            body = String, content_type = "text/csv"),
        (status = 400, response = BadRequest),
        Denied,
    ))]
pub(super) async fn export_csv(
    s: AppState,
    h: Option<String>,
    q: Query,
) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    logs_csv(&s, &p, &q).await
}

/// The logs `q` selects among those `p` reaches, as a CSV download (the API's and the console's).
pub(super) async fn logs_csv(s: &AppState, p: &Principal, q: &Query) -> Result<Response, ApiError> {
    let query = log_query(p, q)?;
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

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `approve` or `reject` (also `setuju`, `tolak`).
    #[schema(
        pattern = r"^\s*(approve|reject|setuju|tolak)\s*$",
        example = "approve"
    )]
    decision: String,
    #[serde(default)]
    comment: String,
}

/// POST /api/v1/visit-logs/{id}/review
#[utoipa::path(post, path = "/api/v1/visit-logs/{id}/review", tag = "review",
    operation_id = "reviewLog",
    security(("bearerAuth" = [])),
    params(("id" = i64, Path, minimum = 1)),
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "The log with its review.", body = LogView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Invalid),
        Denied,
    ))]
pub(super) async fn review(
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
        Reviewed::Done(l) => Ok(json(&LogView::from(&*l))),
    }
}

/// GET /api/v1/visit-logs(.csv); POST a review.
pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let log_list = warp::path!("api" / "v1" / "visit-logs")
        .and(warp::get())
        .and(auth_header())
        .and(query())
        .and(with_state(state.clone()))
        .and_then(|h, q: Query, s: AppState| async move { reply(list_logs(s, h, q).await) })
        .boxed();
    let log_csv = warp::path!("api" / "v1" / "visit-logs.csv")
        .and(warp::get())
        .and(auth_header())
        .and(query())
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
    vec![
        route("GET", "/api/v1/visit-logs", log_list),
        route("GET", "/api/v1/visit-logs.csv", log_csv),
        route("POST", "/api/v1/visit-logs/{id}/review", review),
    ]
}
