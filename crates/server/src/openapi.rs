//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! served at `/api/v1/openapi.json`. No UI is bundled.

use std::sync::OnceLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorCode, Problem};
use crate::routes::{SERVICE_TAG, UNITS_TAG};

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
        (name = SERVICE_TAG, description = "The service itself."),
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
    }
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
