//! What the OpenAPI document says of shapes that are not one handler's own: the error
//! responses every operation names by status (`(status = 404, response = NotFound)`), and the
//! schemas of values the handlers take as text and parse themselves (region codes, weeks, kinds,
//! the idempotency key), each stating the same rule as its parser.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

/// The error responses, each the `Error` envelope under its own description, so that an
/// operation lists the statuses it answers by name: `(status = 404, response = NotFound)`.
macro_rules! error_responses {
    ($($name:ident: $description:literal;)*) => {$(
        pub struct $name;

        impl<'s> utoipa::ToResponse<'s> for $name {
            fn response() -> (&'s str, RefOr<utoipa::openapi::Response>) {
                let content = ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Error")))
                    .build();
                (
                    stringify!($name),
                    ResponseBuilder::new()
                        .description($description)
                        .content("application/json", content)
                        .build()
                        .into(),
                )
            }
        }
    )*};
}

error_responses! {
    BadRequest: "A parameter or the body is malformed or out of range (`bad_request`).";
    Unauthorized: "No session, or not a valid one (`unauthorized`, with `WWW-Authenticate: Bearer`).";
    Forbidden: "The role may not do this, or the region is outside the caller's scope (`forbidden`).";
    NotFound: "No such object within the caller's reach (`not_found`).";
    Conflict: "Valid, but the current state cannot honour it (`conflict`).";
    PayloadTooLarge: "The body is over the limit (`payload_too_large`).";
    Invalid: "Well-formed but invalid: one message per field in `errors` (`invalid`).";
    TooManyRequests: "Too many attempts; `Retry-After` says when to try again (`too_many_requests`).";
    Internal: "A server fault; the body carries the `request_id` under which it was logged.";
    Unavailable: "The database is busy or heavy work is at its bound; `Retry-After` says when to retry (`busy`, `unavailable`).";
}

/// A text schema with its rule.
fn text(pattern: &str, max_length: usize, example: &str, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .max_length(Some(max_length))
        .examples([serde_json::Value::from(example)])
        .description(Some(description))
        .into()
}

impl PartialSchema for crate::domain::RegionCode {
    fn schema() -> RefOr<Schema> {
        text(
            r"^[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?$",
            13,
            "35.09",
            "Kemendagri region code: 35, 35.09, 35.09.01 or 35.09.01.2001.",
        )
    }
}

impl ToSchema for crate::domain::RegionCode {}

impl PartialSchema for crate::domain::Week {
    fn schema() -> RefOr<Schema> {
        text(
            r"^20[0-9]{2}-W(0[1-9]|[1-4][0-9]|5[0-3])$",
            8,
            "2026-W48",
            "ISO week, e.g. 2026-W48.",
        )
    }
}

impl ToSchema for crate::domain::Week {}

/// The `Idempotency-Key` header: a retry with the same key and body is answered from the first.
pub struct IdempotencyKey;

impl PartialSchema for IdempotencyKey {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            // Printable ASCII without spaces, as the handler checks.
            .pattern(Some(r"^[!-~]{1,64}$"))
            .into()
    }
}

impl ToSchema for IdempotencyKey {}

/// A GeoJSON FeatureCollection (RFC 7946).
pub struct GeoJson;

impl PartialSchema for GeoJson {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "type",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["FeatureCollection"])),
            )
            .property(
                "features",
                utoipa::openapi::schema::ArrayBuilder::new()
                    .items(ObjectBuilder::new().schema_type(Type::Object)),
            )
            .required("type")
            .required("features")
            .into()
    }
}

impl ToSchema for GeoJson {}

/// The `kind` filter: kinds of site, comma-separated (`sma,smk`), from `SiteKind`.
pub struct Kinds;

impl PartialSchema for Kinds {
    fn schema() -> RefOr<Schema> {
        let one = crate::domain::SiteKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join("|");
        text(
            &format!("^({one})(,({one}))*$"),
            200,
            "sma,smk",
            "Kinds of site, comma-separated.",
        )
    }
}

impl ToSchema for Kinds {}

/// What every signed-in operation may answer besides its own: no valid session (401), a role
/// or region outside the caller's reach (403), a server fault (500).
pub struct Denied;

impl utoipa::IntoResponses for Denied {
    fn responses() -> std::collections::BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        [
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("500", "Internal"),
        ]
        .into_iter()
        .map(|(status, name)| {
            (
                status.to_string(),
                RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))),
            )
        })
        .collect()
    }
}
