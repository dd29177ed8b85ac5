//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! served at `/api/v1/openapi.json`. No UI is bundled.

pub mod schema;

use std::sync::OnceLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, Type};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorCode, Problem, PROBLEM_JSON};
use crate::routes::{PARTIES_TAG, RESIDENTS_TAG, SERVICE_TAG, STAFF_TAG, UNITS_TAG};

/// The parts of the document not derived from a handler.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chengxin API",
        description = "The Shaoxing personal integrity score platform (绍兴市个人诚信分). \
                       Every error is an RFC 9457 `application/problem+json` body with a stable \
                       `code` from the error table (`ERRORS.md`) and the `request_id`."
    ),
    components(schemas(Problem, ErrorCode)),
    modifiers(&UnitKey),
    tags(
        (name = UNITS_TAG, description = "Cooperating units (协同单位) pushing, correcting and withdrawing records."),
        (name = RESIDENTS_TAG, description = "Residents (个人) reading and acting on their own data, signed in with an OIDC ID token."),
        (name = STAFF_TAG, description = "Agency staff (工作机构): sign-in and, by role (admin, reviewer, auditor), the agency's operations."),
        (name = PARTIES_TAG, description = "Authorised parties (授权主体: banks, merchants, transport operators, government under 第十九条) redeeming a resident's one-time code and asking for answers within its scope. No operation takes an ID number."),
        (name = SERVICE_TAG, description = "The service itself."),
        (name = crate::routes::certificates::CERTIFICATES_TAG, description = "Score certificates (第二十三条): this city's key set and the verifier for ours and partner cities' certificates."),
    )
)]
pub struct ApiDoc;

/// Declares the `unit_key` Bearer scheme the unit endpoints require.
struct UnitKey;

impl Modify for UnitKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "unit_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A cooperating unit's API key, issued by the agency: `Authorization: Bearer KEY`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "party_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An authorised party's API key, issued by the agency (`chengxin party add`): \
                         `Authorization: Bearer KEY`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "resident_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A resident's OIDC ID token (EdDSA, ES256 or RS256) from the configured identity provider: \
                         `Authorization: Bearer ID_TOKEN`. With `serve --demo`, `POST /demo-idp/token` issues one.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "staff_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A staff session token from `POST /api/v1/staff/sessions` (valid 8 hours, ended by \
                         `DELETE /api/v1/staff/sessions/current`): `Authorization: Bearer TOKEN`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// What the derive cannot add, applied once every route is in the document.
pub(crate) fn finish(doc: &mut utoipa::openapi::OpenApi) {
    CommonResponses.modify(doc);
}

/// Adds the responses any operation can give, whatever its handler does:
/// 408 and 500 from the layers around every route, 429 and 503 (with
/// `Retry-After`) from the limit on requests in flight, and 401 on every
/// operation that requires a unit key (with its `WWW-Authenticate` header).
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                let needs_key = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let responses = &mut op.responses.responses;
                if needs_key {
                    responses
                        .entry("401".to_owned())
                        .or_insert_with(|| unauthenticated().into());
                }
                for code in [ErrorCode::RequestTimeout, ErrorCode::Internal] {
                    responses
                        .entry(code.status().as_str().to_owned())
                        .or_insert_with(|| {
                            problem(&format!("`{}`: {}", code.as_str(), code.description())).into()
                        });
                }
                for code in [ErrorCode::TooManyRequests, ErrorCode::ServerBusy] {
                    responses
                        .entry(code.status().as_str().to_owned())
                        .or_insert_with(|| {
                            let mut r =
                                problem(&format!("`{}`: {}", code.as_str(), code.description()));
                            r.headers.insert("Retry-After".to_owned(), retry_after());
                            r.into()
                        });
                }
            }
        }
    }
}

/// A problem response with `description`.
fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn retry_after() -> utoipa::openapi::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::Integer))
        .description(Some("Seconds to wait before trying again."))
        .build()
}

fn unauthenticated() -> Response {
    let mut r = problem(&format!(
        "`unauthenticated`: {}",
        ErrorCode::Unauthenticated.description()
    ));
    r.headers.insert(
        "WWW-Authenticate".to_owned(),
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some("`Bearer realm=\"chengxin\"`"))
            .build(),
    );
    r
}

/// The document as served, built once.
pub fn document_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        crate::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serializes")
    })
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = SERVICE_TAG,
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.", content_type = "application/json")),
)]
pub async fn openapi_json() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], document_json())
}
