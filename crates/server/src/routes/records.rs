//! Single records pushed by units: `POST /api/v1/records` (idempotent on the
//! unit and `source_id`; a changed body is a correction) and
//! `POST /api/v1/records/{source_id}/withdraw`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chengxin_domain::Catalogue;
use chengxin_jobs::push::{self, Caller, PushError, ReceiptOutcome, RecordReceipt};
use serde::Serialize;
use serde_json::json;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema};
use utoipa::openapi::{RefOr, Type};
use utoipa::ToSchema;

use crate::auth::AuthUnit;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{JsonBody, PathParam};
use crate::middleware::{ClientRequestId, RequestId};
use crate::openapi::schema;
use crate::state::AppState;

/// One record, in the import format without `unit` (the key says which unit).
/// Only documented: the handler passes the raw body to the same validation as
/// a batch row. Its schema is derived from the catalogue, one per item.
pub struct RecordInput;

impl utoipa::PartialSchema for RecordInput {
    fn schema() -> RefOr<Schema> {
        schema::record_input(&Catalogue::builtin())
    }
}

impl ToSchema for RecordInput {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend(schema::record_schemas(&Catalogue::builtin()));
    }
}

/// What happened to a pushed or withdrawn record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new record was stored.
    Accepted,
    /// The same content was already stored: nothing changed.
    Duplicate,
    /// Different content for a known `source_id`: stored as a new version.
    Corrected,
    /// Its `source_version` is lower than the stored version's: nothing changed.
    Stale,
    /// The record was withdrawn and no longer counts.
    Withdrawn,
}

/// The answer to a push or a withdrawal.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordReceiptBody {
    pub source_id: String,
    /// The stored record version's id.
    pub record_id: i64,
    pub outcome: Outcome,
    /// The person was rescored in the same transaction. The score itself is
    /// never disclosed to a unit (第十六条).
    pub rescored: bool,
}

impl TryFrom<RecordReceipt> for RecordReceiptBody {
    type Error = ApiError;

    fn try_from(r: RecordReceipt) -> Result<Self, ApiError> {
        let outcome = match r.outcome {
            ReceiptOutcome::Accepted => Outcome::Accepted,
            ReceiptOutcome::Duplicate => Outcome::Duplicate,
            ReceiptOutcome::Corrected => Outcome::Corrected,
            ReceiptOutcome::Stale => Outcome::Stale,
            ReceiptOutcome::Withdrawn => Outcome::Withdrawn,
        };
        Ok(RecordReceiptBody {
            source_id: r.source_id,
            record_id: r.record_id,
            outcome,
            rescored: r.rescored,
        })
    }
}

/// Why a record is withdrawn: `{"reason": "…"}` and nothing else.
pub struct WithdrawInput;

impl utoipa::PartialSchema for WithdrawInput {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("Why a record is withdrawn."))
            .property(
                "reason",
                schema::leaf(json!({
                    "type": "string",
                    "maxLength": MAX_REASON,
                    "pattern": schema::non_blank_without_nul(None),
                    "description": format!(
                        "Not blank; no control (U+0000 among them), bidirectional or zero-width character; at most {MAX_REASON} characters. Stored trimmed."
                    ),
                    "example": "decision revoked on review",
                })),
            )
            .required("reason")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl ToSchema for WithdrawInput {}

const MAX_REASON: usize = 500;

/// Pushes one record; the person is rescored before the answer.
#[utoipa::path(
    post,
    path = "/api/v1/records",
    tag = super::UNITS_TAG,
    security(("unit_key" = [])),
    request_body(content = RecordInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored: `accepted` (new) or `corrected` (a new version).", body = RecordReceiptBody),
        (status = 200, description = "`duplicate`: identical to what is stored; or `stale`: its `source_version` is lower than the stored version's. Nothing changed.", body = RecordReceiptBody),
        (status = 400, description = "`unreadable_input`: the body could not be read (the upload broke off).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`item_not_permitted`: the unit is not responsible for the item.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The record is invalid; `code` is the row's reason code: `malformed_json`, `invalid_utf8`, `missing_field`, `invalid_field`, `unknown_field`, `unknown_item`, `invalid_id_number`, `id_check_digit`, `invalid_date`, `date_out_of_range`, `inconsistent_fields`, `invalid_character`, `invalid_enum`, `out_of_range`, `unknown_template` or `unit_mismatch`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn push_record(
    State(state): State<AppState>,
    AuthUnit(unit): AuthUnit,
    RequestId(request_id): RequestId,
    ClientRequestId(client_request_id): ClientRequestId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<RecordReceiptBody>), ApiError> {
    let receipt = state
        .blocking(move |ctx| {
            let caller = Caller {
                unit: &unit,
                request_id: Some(&request_id),
                client_request_id: client_request_id.as_deref(),
            };
            push::push_record(ctx, caller, &body)
        })
        .await?
        .map_err(push_error)?;
    let body = RecordReceiptBody::try_from(receipt)?;
    let status = match body.outcome {
        Outcome::Accepted | Outcome::Corrected => StatusCode::CREATED,
        Outcome::Duplicate | Outcome::Stale | Outcome::Withdrawn => StatusCode::OK,
    };
    Ok((status, Json(body)))
}

/// Withdraws a record: it stops counting and the person is rescored.
#[utoipa::path(
    post,
    path = "/api/v1/records/{source_id}/withdraw",
    tag = super::UNITS_TAG,
    security(("unit_key" = [])),
    params(("source_id" = String, Path, min_length = 1, max_length = 128,
            description = "The unit's own id of the record, as stored (trimmed).")),
    request_body(content = WithdrawInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Withdrawn.", body = RecordReceiptBody),
        (status = 400, description = "`bad_request`: the path cannot be decoded; `unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`record_not_found`: the unit has no record with this `source_id`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`record_not_withdrawable`: the record was repaired or is a rejected self-report.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`malformed_json` or `invalid_utf8` (not a JSON object), `unknown_field`, `missing_field` (no `reason`), `invalid_field` (blank or not a string), `invalid_character` (a control, bidirectional or zero-width character) or `out_of_range` (over 500 characters).", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn withdraw(
    State(state): State<AppState>,
    AuthUnit(unit): AuthUnit,
    RequestId(request_id): RequestId,
    ClientRequestId(client_request_id): ClientRequestId,
    PathParam(source_id): PathParam,
    JsonBody(body): JsonBody,
) -> Result<Json<RecordReceiptBody>, ApiError> {
    let reason = parse_reason(&body)?;
    if chengxin_domain::text::check(&source_id).is_err() {
        // No record can have it (validation refuses it), and PostgreSQL
        // cannot even compare U+0000.
        return Err(push_error(PushError::NotFound(source_id)));
    }
    let receipt = state
        .blocking(move |ctx| {
            let caller = Caller {
                unit: &unit,
                request_id: Some(&request_id),
                client_request_id: client_request_id.as_deref(),
            };
            push::withdraw(ctx, caller, &source_id, &reason)
        })
        .await?
        .map_err(push_error)?;
    Ok(Json(RecordReceiptBody::try_from(receipt)?))
}

fn push_error(e: PushError) -> ApiError {
    match e {
        PushError::Invalid(row) => ApiError::from_row_code(row.code, row.message),
        PushError::NotFound(source_id) => ApiError::new(
            ErrorCode::RecordNotFound,
            format!("this unit has no record with source_id `{source_id}`"),
        ),
        e @ PushError::NotWithdrawable { .. } => {
            ApiError::new(ErrorCode::RecordNotWithdrawable, e.to_string())
        }
        PushError::Job(e) => ApiError::job(e),
    }
}

/// Reads `{"reason": "..."}` strictly, with the same codes as record validation.
fn parse_reason(body: &[u8]) -> Result<String, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidUtf8,
            format!("the body is not valid UTF-8 ({e})"),
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let Some(obj) = value.as_object() else {
        return Err(ApiError::new(
            ErrorCode::MalformedJson,
            "the body must be a JSON object",
        ));
    };
    if let Some(k) = obj.keys().find(|k| k.as_str() != "reason") {
        return Err(ApiError::new(
            ErrorCode::UnknownField,
            format!("unknown field `{k}`"),
        ));
    }
    match obj.get("reason") {
        None | Some(serde_json::Value::Null) => Err(ApiError::new(
            ErrorCode::MissingField,
            "`reason` is required",
        )),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Err(ApiError::new(
            ErrorCode::InvalidField,
            "`reason` must not be blank",
        )),
        Some(serde_json::Value::String(s)) if chengxin_domain::text::check(s.trim()).is_err() => {
            let e = chengxin_domain::text::check(s.trim()).unwrap_err();
            Err(ApiError::new(
                ErrorCode::InvalidCharacter,
                format!("`reason`: {e}"),
            ))
        }
        Some(serde_json::Value::String(s)) if s.chars().count() > MAX_REASON => Err(ApiError::new(
            ErrorCode::OutOfRange,
            format!("`reason` is longer than {MAX_REASON} characters"),
        )),
        Some(serde_json::Value::String(s)) => Ok(s.trim().to_owned()),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidField,
            "`reason` must be a string",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_checked_with_record_codes() {
        let code = |b: &[u8]| parse_reason(b).unwrap_err().code();
        assert_eq!(parse_reason(br#"{"reason":" typo "}"#).unwrap(), "typo");
        assert_eq!(code(b"{"), ErrorCode::MalformedJson);
        assert_eq!(code(b"[]"), ErrorCode::MalformedJson);
        assert_eq!(code(b"{}"), ErrorCode::MissingField);
        assert_eq!(code(br#"{"reason":"  "}"#), ErrorCode::InvalidField);
        assert_eq!(code(br#"{"reason":1}"#), ErrorCode::InvalidField);
        assert_eq!(
            code(br#"{"reason":"a\u0000"}"#),
            ErrorCode::InvalidCharacter
        );
        assert_eq!(
            code(br#"{"reason":"a\u202eb"}"#),
            ErrorCode::InvalidCharacter
        );
        assert_eq!(code(br#"{"reason":"x","y":1}"#), ErrorCode::UnknownField);
        assert_eq!(code(b"{\"reason\":\"\xff\"}"), ErrorCode::InvalidUtf8);
    }
}
