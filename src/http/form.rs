//! The signed per-visit form (`/v/{token}`): a field team's report from a phone, without a
//! password — the link in the weekly email is the credential.

use std::collections::{BTreeMap, HashMap};

use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, http::HeaderValue};

use super::params::opt;
use super::params::{Query, Route, form_fields, query, reply, route, with_state};
use super::schemas::{BadRequest, Internal};
use super::visits::{facts, write_log};
use super::{ApiError, AppState};
use crate::auth::LinkError;
use crate::fieldlog::{self, FieldError, Flag};
use crate::services::fieldlogs::{self as service, Logged, VisitRecord};

pub(super) fn html(status: StatusCode, body: String) -> Response {
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

pub(super) fn lang_q(q: &Query) -> &'static str {
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
    v.stop
        .people
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
#[utoipa::path(get, path = "/v/{token}", tag = "form", operation_id = "visitFormShow",
    security(()),
    params(
        ("token" = String, Path, min_length = 1, max_length = 512,
            pattern = "^[A-Za-z0-9_.~-]+$", description = "The signed link from the email."),
        ("lang" = Option<String>, Query, description = "`id` (default) or `en`."),
    ),
    responses(
        (status = 200, description = "The form.", body = String, content_type = "text/html"),
        (status = 400, response = BadRequest),
        (status = 404, description = "Unknown or badly signed token.", body = String,
            content_type = "text/html"),
        (status = 410, description = "The link expired or its visit is no longer planned.",
            body = String, content_type = "text/html"),
        (status = 500, response = Internal),
    ))]
pub(super) async fn form(s: AppState, token: String, q: Query) -> Result<Response, ApiError> {
    let lang = lang_q(&q);
    let v = match link_visit(&s, &token, lang).await? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let tz = facts(&s, &v).await?.time_zone;
    form_page(&s, &v, tz, &token, lang, StatusCode::OK, None, &[]).await
}

/// The form's fields (`application/x-www-form-urlencoded`), from the services and reasons
/// `fieldlog::parse_form` reads; every field but `idem` and `status` may be empty.
pub struct VisitForm;

impl utoipa::PartialSchema for VisitForm {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
        let text = |pattern: &str, max: usize| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern))
                .max_length(Some(max))
        };
        let count = || text("^[0-9]{0,4}$", 4);
        let time = || text("^(([01][0-9]|2[0-3]):[0-5][0-9])?$", 5);
        let degrees = || text(r"^(-?[0-9]{1,3}(\.[0-9]{1,8})?)?$", 13);
        let mut form = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("idem", text("^[A-Za-z0-9_.:-]+$", 64).min_length(Some(1)))
            .property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(fieldlog::Status::ALL.map(|s| s.as_str()))),
            )
            // Without `idem` the form is still saved, only not recognised as a resubmission.
            .required("status");
        for (key, _, _) in fieldlog::SERVICES {
            form = form.property(format!("count_{key}"), count());
        }
        for (key, _, _) in fieldlog::REASONS {
            form = form.property(format!("away_{key}"), count());
        }
        form.property("check_in", time())
            .property("check_out", time())
            .property("lat_in", degrees())
            .property("lon_in", degrees())
            .property("lat_out", degrees())
            .property("lon_out", degrees())
            .property(
                "notes",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(2000)),
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl utoipa::ToSchema for VisitForm {}

/// POST /v/{token} — save the form as a new revision of the visit's log.
#[utoipa::path(post, path = "/v/{token}", tag = "form", operation_id = "visitFormSubmit",
    security(()),
    params(
        ("token" = String, Path, min_length = 1, max_length = 512,
            pattern = "^[A-Za-z0-9_.~-]+$", description = "The signed link from the email."),
        ("lang" = Option<String>, Query, description = "`id` (default) or `en`."),
    ),
    request_body(content = VisitForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Saved (or replayed); a confirmation page.", body = String,
            content_type = "text/html"),
        (status = 400, response = BadRequest),
        (status = 404, description = "Unknown or badly signed token.", body = String,
            content_type = "text/html"),
        (status = 409, description = "This form was already sent with other values.",
            body = String, content_type = "text/html"),
        (status = 410, description = "The link expired or its visit is no longer planned.",
            body = String, content_type = "text/html"),
        (status = 422, description = "Invalid values; the form again with the errors.",
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

/// GET and POST /v/{token}.
pub(super) fn routes(state: &AppState) -> Vec<Route> {
    let form = warp::path!("v" / String)
        .and(warp::get())
        .and(query())
        .and(with_state(state.clone()))
        .and_then(|t: String, q: Query, s: AppState| async move { reply(form(s, t, q).await) })
        .boxed();
    let submit = warp::path!("v" / String)
        .and(warp::post())
        .and(query())
        .and(form_fields(64 * 1024))
        .and(with_state(state.clone()))
        .and_then(
            |t: String, q: Query, form: HashMap<String, String>, s: AppState| async move {
                reply(submit(s, t, q, form).await)
            },
        )
        .boxed();
    vec![
        route("GET", "/v/{token}", form),
        route("POST", "/v/{token}", submit),
    ]
}
