//! Notices to the places visited: the signed answer page (`/n/{token}`) a school head or kepala
//! desa opens from the notice, and the coordinator's list of a plan's notices and answers.

use std::collections::HashMap;

use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::auth::{STAFF, require};
use super::form::{html, lang_q};
use super::params::{
    Query, Route, auth_header, form_fields, json, query, reply, route, with_state,
};
use super::schemas::{BadRequest, Denied, Internal, NotFound, PayloadTooLarge};
use super::{ApiError, AppState};
use crate::email::{Lang, hhmm, kind_label, long_date};
use crate::services::publishing::notices::{
    self as service, AnswerContext, AnswerError, AnswerForm, NoticeRow,
};

/// The reply of GET /api/v1/plans/{id}/notices.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(super) struct NoticesReply {
    plan_id: i64,
    /// Every site the plan visits: its notice, its answer, and whether to phone it.
    sites: Vec<NoticeRow>,
    /// How many sites to phone (no email, short notice, or a decline).
    to_call: usize,
}

/// GET /api/v1/plans/{id}/notices — the notices of a plan's visits and the places' answers.
#[utoipa::path(get, path = "/api/v1/plans/{id}/notices", tag = "plans",
    operation_id = "planNotices",
    security(("bearerAuth" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Notices, answers and the sites to phone.", body = NoticesReply),
        (status = 404, response = NotFound),
        Denied,
    ))]
pub(super) async fn list(s: AppState, h: Option<String>, id: i64) -> Result<Response, ApiError> {
    let p = require(&s, h, STAFF).await?;
    let not_found = || ApiError::NotFound(format!("rencana {id} tidak ditemukan / plan not found"));
    let plan = crate::services::planning::plan_header(&s.db, id)
        .await?
        .filter(|plan| p.covers_region(&plan.region_code))
        .ok_or_else(not_found)?;
    let sites = service::overview(&s.db, &s.mail.notices, plan.id, s.clock.now())
        .await?
        .ok_or_else(not_found)?;
    let to_call = sites.iter().filter(|r| r.call.is_some()).count();
    Ok(json(&NoticesReply {
        plan_id: id,
        sites,
        to_call,
    }))
}

/// A place's answer (`application/x-www-form-urlencoded`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(super) struct NoticeAnswer {
    /// `bisa` (the visit is welcome) or `tidak_bisa`.
    #[schema(pattern = "^(bisa|tidak_bisa)$")]
    answer: String,
    /// Another day the place proposes (with `tidak_bisa`), `YYYY-MM-DD`.
    #[schema(format = Date)]
    proposed_date: Option<String>,
    #[schema(max_length = 1000)]
    note: Option<String>,
}

fn lang_of(lang: &str) -> Lang {
    Lang::from_code(lang)
}

fn answer_words(lang: &str, answer: &str, proposed: Option<chrono::NaiveDate>) -> String {
    let l = lang_of(lang);
    let en = l == Lang::En;
    match (answer, proposed) {
        ("bisa", _) => if en { "Yes, we can" } else { "Bisa" }.to_string(),
        (_, Some(d)) => format!(
            "{}, {} {}",
            if en { "No" } else { "Tidak bisa" },
            if en { "proposed" } else { "usul" },
            long_date(l, d)
        ),
        _ => if en { "No" } else { "Tidak bisa" }.to_string(),
    }
}

fn page(lang: &str, token: &str, c: &AnswerContext, extra: minijinja::Value) -> String {
    let l = lang_of(lang);
    let today = c.week_days.first().copied().unwrap_or_default();
    let ctx = minijinja::context! {
        site => &c.site_name,
        kind => kind_label(l, &c.kind),
        visits => c.visits.iter().map(|v| format!("{}, {}–{}", long_date(l, v.date), hhmm(&v.start), hhmm(&v.end))).collect::<Vec<_>>(),
        action => format!("/n/{token}{}", if lang == "en" { "?lang=en" } else { "" }),
        min_date => today.to_string(),
        max_date => (today + chrono::Duration::days(90)).to_string(),
        previous => c.previous.as_ref().map(|a| answer_words(lang, &a.answer, a.proposed_date)),
        ..extra
    };
    crate::fieldlog::render_answer(lang, ctx)
}

fn error_page(lang: &str, e: AnswerError) -> Result<Response, ApiError> {
    let en = lang == "en";
    let (status, title, message) = match e {
        AnswerError::Store(e) => return Err(e.into()),
        AnswerError::Expired => (
            StatusCode::GONE,
            if en {
                "Link expired"
            } else {
                "Tautan kedaluwarsa"
            },
            if en {
                "The visit has passed. Please call the Disdukcapil coordinator."
            } else {
                "Kunjungan sudah lewat. Silakan hubungi koordinator Disdukcapil."
            },
        ),
        AnswerError::Invalid | AnswerError::BadInput(_) => (
            StatusCode::NOT_FOUND,
            if en {
                "Link not valid"
            } else {
                "Tautan tidak berlaku"
            },
            if en {
                "This link is not valid. Use the link in the latest notice email."
            } else {
                "Tautan ini tidak berlaku. Gunakan tautan di email pemberitahuan terbaru."
            },
        ),
    };
    Ok(html(
        status,
        crate::fieldlog::render_error(lang, title, message, None),
    ))
}

/// GET /n/{token} — the answer form.
#[utoipa::path(get, path = "/n/{token}", tag = "form", operation_id = "noticeAnswerShow",
    security(()),
    params(
        ("token" = String, Path, min_length = 1, max_length = 512,
            pattern = "^[A-Za-z0-9_.~-]+$", description = "The signed link of the notice."),
        ("lang" = Option<String>, Query, description = "`id` (default) or `en`."),
    ),
    responses(
        (status = 200, description = "The answer form.", body = String, content_type = "text/html"),
        (status = 400, response = BadRequest),
        (status = 404, description = "Unknown or badly signed token.", body = String,
            content_type = "text/html"),
        (status = 410, description = "The link expired (its visit has passed).", body = String,
            content_type = "text/html"),
        (status = 500, response = Internal),
    ))]
pub(super) async fn show(s: AppState, token: String, q: Query) -> Result<Response, ApiError> {
    let lang = lang_q(&q);
    let secret = s.auth.link_secret.expose().to_string();
    match service::answer_page(&s.db, &secret, &token, s.clock.now()).await {
        Ok(c) => {
            let choice = c.previous.as_ref().map(|a| a.answer.clone());
            let body = page(lang, &token, &c, minijinja::context! { choice });
            Ok(html(StatusCode::OK, body))
        }
        Err(e) => error_page(lang, e),
    }
}

/// POST /n/{token} — record the answer (form fields `answer`, `proposed_date`, `note`).
#[utoipa::path(post, path = "/n/{token}", tag = "form", operation_id = "noticeAnswerSubmit",
    security(()),
    params(
        ("token" = String, Path, min_length = 1, max_length = 512,
            pattern = "^[A-Za-z0-9_.~-]+$", description = "The signed link of the notice."),
        ("lang" = Option<String>, Query, description = "`id` (default) or `en`."),
    ),
    request_body(content = NoticeAnswer, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Saved; a confirmation page.", body = String,
            content_type = "text/html"),
        (status = 400, response = BadRequest),
        (status = 404, description = "Unknown or badly signed token.", body = String,
            content_type = "text/html"),
        (status = 410, description = "The link expired (its visit has passed).", body = String,
            content_type = "text/html"),
        (status = 413, response = PayloadTooLarge),
        (status = 422, description = "Invalid values; the form again with the error.",
            body = String, content_type = "text/html"),
        (status = 500, response = Internal),
    ))]
pub(super) async fn submit(
    s: AppState,
    token: String,
    q: Query,
    form: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let lang = lang_q(&q);
    let secret = s.auth.link_secret.expose().to_string();
    let input = AnswerForm {
        answer: form.get("answer").cloned().unwrap_or_default(),
        proposed_date: form.get("proposed_date").cloned().unwrap_or_default(),
        note: form.get("note").cloned().unwrap_or_default(),
    };
    match service::record_answer(&s.db, &secret, &token, &input, s.clock.now()).await {
        Ok((c, a)) => {
            let saved = answer_words(lang, &a.answer, a.proposed_date);
            Ok(html(
                StatusCode::OK,
                page(lang, &token, &c, minijinja::context! { saved }),
            ))
        }
        Err(AnswerError::BadInput(message)) => {
            let c = match service::answer_page(&s.db, &secret, &token, s.clock.now()).await {
                Ok(c) => c,
                Err(e) => return error_page(lang, e),
            };
            let body = page(
                lang,
                &token,
                &c,
                minijinja::context! {
                    error => message, choice => input.answer, proposed => input.proposed_date,
                    note => input.note,
                },
            );
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, body))
        }
        Err(e) => error_page(lang, e),
    }
}

pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let list = warp::path!("api" / "v1" / "plans" / i64 / "notices")
        .and(warp::get())
        .and(auth_header())
        .and(with_state(state.clone()))
        .and_then(|id: i64, h, s: AppState| async move { reply(list(s, h, id).await) })
        .boxed();
    let show = warp::path!("n" / String)
        .and(warp::get())
        .and(query())
        .and(with_state(state.clone()))
        .and_then(|t: String, q: Query, s: AppState| async move { reply(show(s, t, q).await) })
        .boxed();
    let submit = warp::path!("n" / String)
        .and(warp::post())
        .and(query())
        .and(form_fields(16 * 1024))
        .and(with_state(state.clone()))
        .and_then(
            |t: String, q: Query, form: HashMap<String, String>, s: AppState| async move {
                reply(submit(s, t, q, form).await)
            },
        )
        .boxed();
    vec![
        route("GET", "/api/v1/plans/{id}/notices", list),
        route("GET", "/n/{token}", show),
        route("POST", "/n/{token}", submit),
    ]
}
