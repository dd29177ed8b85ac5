//! The API's handlers, one module per area. Each handler is annotated for
//! OpenAPI and registered with `routes!`, so the document cannot drift.

pub mod audit;
pub mod batches;
pub mod catalogue;
pub mod certificates;
pub(crate) mod decision;
pub mod evidence_form;
pub mod health;
pub mod me;
pub mod me_authorisations;
pub mod me_commitments;
pub mod me_data;
pub mod me_objections;
pub mod me_repairs;
pub mod me_self_reports;
pub mod party;
pub mod party_uses;
pub mod records;
pub mod scenarios;
pub mod staff;
pub mod staff_objections;
pub mod staff_repairs;
pub mod staff_scenarios;
pub mod staff_self_reports;
pub mod staff_statistics;
pub mod unit_objections;
pub mod unit_self_reports;

use crate::error::{ApiError, ErrorCode};

/// Tag of the endpoints units call.
pub const UNITS_TAG: &str = "units";
/// Tag of the service's own endpoints.
pub const SERVICE_TAG: &str = "service";
/// Tag of the endpoints agency staff call.
pub const STAFF_TAG: &str = "staff";
/// Tag of the endpoints authorised parties call.
pub const PARTIES_TAG: &str = "parties";
/// Tag of the endpoints residents call about themselves.
pub const RESIDENTS_TAG: &str = "residents";

/// A JSON object body with only the `allowed` keys, or the record codes a
/// unit's push would get (`invalid_utf8`, `malformed_json`, `unknown_field`).
pub(crate) fn strict_object(
    body: &[u8],
    allowed: &[&str],
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
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
    let serde_json::Value::Object(obj) = value else {
        return Err(ApiError::new(
            ErrorCode::MalformedJson,
            "the body must be a JSON object",
        ));
    };
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::new(
            ErrorCode::UnknownField,
            format!("unknown field `{k}`"),
        ));
    }
    Ok(obj)
}

/// Runs one of the resident's own reads (each audits itself) under the read
/// permits; a failure is a fault of ours, not the caller's.
/// [`read_own`] for a short read handed out once its audit entry is
/// durable ([`crate::state::AppState::reading_short`]): the request waits
/// for the entry's group commit without holding a thread.
pub(crate) async fn read_own_audited<T: Send + 'static>(
    state: &crate::state::AppState,
    read: impl FnOnce(
            &chengxin_jobs::Context,
        ) -> Result<chengxin_jobs::audit::Audited<T>, chengxin_jobs::JobError>
        + Send
        + 'static,
) -> Result<T, crate::error::ApiError> {
    state
        .reading_short(read)
        .await?
        .map_err(crate::error::ApiError::internal)?
        .durable()
        .await
        .map_err(crate::error::ApiError::internal)
}

pub(crate) async fn read_own<T: Send + 'static>(
    state: &crate::state::AppState,
    read: impl FnOnce(&chengxin_jobs::Context) -> Result<T, chengxin_jobs::JobError> + Send + 'static,
) -> Result<T, crate::error::ApiError> {
    state
        .reading(read)
        .await?
        .map_err(crate::error::ApiError::internal)
}
