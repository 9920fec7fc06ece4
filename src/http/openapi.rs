//! The API contract, generated from the code: utoipa collects each handler's `#[utoipa::path]`
//! (method, path, parameters, the typed request and response bodies) and the schemas of those
//! types; the document is built once and served at `GET /api/openapi.json`.
//!
//! `tests/api/openapi.rs` holds the router to it: every route `routes()` registers is an
//! operation here with a typed success response, and every operation here is routed.

use std::sync::OnceLock;

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use warp::reply::Response;
use warp::{Filter, Reply};

use super::params::{Route, route};
use super::schemas::{
    BadRequest, Conflict, Forbidden, IdempotencyKey, Internal, Invalid, Kinds, NotFound,
    PayloadTooLarge, TooManyRequests, Unauthorized, Unavailable,
};
use super::{
    auth, catalog, emails, error, form, health, notices, plans, priorities, reports, review, visits,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "jemput",
        description = "Jemput bola outreach planning for Disdukcapil offices: ranked sites, \
            weekly plans, the teams' emails, visit logs and their review. Sign in with \
            POST /api/v1/auth/login and send `Authorization: Bearer <token>`.",
        license(name = "MIT"),
    ),
    paths(
        health::health,
        openapi_json,
        auth::login,
        auth::logout,
        auth::me,
        auth::change_password,
        catalog::region,
        catalog::sites,
        catalog::teams,
        priorities::priorities,
        priorities::site_priority,
        plans::create_plan,
        plans::list_plans,
        plans::get_plan,
        plans::get_pins,
        plans::put_pins,
        plans::replan,
        plans::publish,
        plans::approve,
        notices::list,
        emails::outbox_list,
        emails::outbox_retry,
        emails::outbox_retry_many,
        visits::list,
        visits::get,
        visits::history,
        visits::create_log,
        review::list_logs,
        review::export_csv,
        review::review,
        reports::weekly,
        reports::audit,
        form::form,
        form::submit,
        notices::show,
        notices::submit,
    ),
    components(
        // Schemas that parameters name (utoipa collects those of bodies by itself).
        schemas(error::Envelope, IdempotencyKey, Kinds, crate::domain::RegionCode, crate::domain::Week),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            PayloadTooLarge,
            Invalid,
            TooManyRequests,
            Internal,
            Unavailable
        )
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sessions and passwords"),
        (name = "catalog", description = "Regions, sites and teams"),
        (name = "priorities", description = "Sites ranked for a week"),
        (name = "plans", description = "A week's plans: make, pin, re-plan, publish, approve"),
        (name = "emails", description = "The outbox of the teams' emails"),
        (name = "visits", description = "Planned visits and their field logs"),
        (name = "review", description = "The managers' review of logs"),
        (name = "reports", description = "The weekly report and the audit trail"),
        (name = "form", description = "The signed pages: the per-visit form, a notice's answer (HTML)"),
        (name = "service", description = "Health and this document"),
    )
)]
pub struct ApiDoc;

/// The document as served (built on first use).
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .expect("the OpenAPI document serialises")
    })
}

/// The session token scheme every protected operation names.
pub const BEARER: &str = "bearerAuth";

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("opaque".into());
        http.description = Some(
            "Opaque session token from POST /api/v1/auth/login: `Authorization: Bearer fs_…`."
                .into(),
        );
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(http));
    }
}

/// GET /api/openapi.json.
pub(super) fn routes() -> Vec<Route> {
    let openapi = warp::path!("api" / "openapi.json")
        .and(warp::get())
        .map(openapi_json)
        .boxed();
    vec![route("GET", "/api/openapi.json", openapi)]
}

/// GET /api/openapi.json — this document, generated from the code.
#[utoipa::path(get, path = "/api/openapi.json", tag = "service", operation_id = "openapi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of every route.",
            body = Object, content_type = "application/json"),
        (status = 500, response = Internal),
    ))]
fn openapi_json() -> Response {
    warp::reply::with_header(document(), "content-type", "application/json").into_response()
}
