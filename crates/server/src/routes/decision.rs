//! What the decision endpoints share: a queue's `?status=&after=` query and
//! a `{"decision", "reason"}` body (self-reports by units and reviewers,
//! credit repairs by reviewers).

use serde_json::json;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema};
use utoipa::openapi::{RefOr, Type};

use crate::error::{ApiError, ErrorCode};
use crate::openapi::schema;

/// The schema of a decision body: `{"decision": accept, "reason"?}` (a
/// reason optional, no U+0000) or `{"decision": "rejected", "reason"}` (not
/// blank; `example` is its example), at most `max_reason` characters, no
/// other property.
pub(crate) fn decision_schema(
    description: &str,
    accept: &str,
    example: &str,
    max_reason: usize,
) -> RefOr<Schema> {
    let branch = |decision: &str, reason: serde_json::Value, required: &[&str]| {
        let mut b = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "decision",
                schema::leaf(json!({"type": "string", "enum": [decision]})),
            )
            .property("reason", schema::leaf(reason))
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        for r in required {
            b = b.required(*r);
        }
        Schema::Object(b.build())
    };
    OneOfBuilder::new()
        .description(Some(description))
        .item(branch(
            accept,
            json!({
                "type": ["string", "null"],
                "maxLength": max_reason,
                "pattern": "^[^\\u0000]*$",
                "description": "Optional; no U+0000.",
            }),
            &["decision"],
        ))
        .item(branch(
            "rejected",
            json!({
                "type": "string",
                "maxLength": max_reason,
                "pattern": schema::non_blank_without_nul(Some(max_reason)),
                "description": "Required, not blank; shown to the resident.",
                "example": example,
            }),
            &["decision", "reason"],
        ))
        .into()
}

/// `status` (default `default`, parsed by `parse`; `statuses` names the
/// accepted values in messages) and `after` (an id; `what` names it) of a
/// queue listing; any other parameter is 400.
pub(crate) fn queue_query<S>(
    query: &str,
    default: S,
    parse: impl Fn(&str) -> Option<S>,
    statuses: &str,
    what: &str,
) -> Result<(S, i64), ApiError> {
    let bad = |m: String| ApiError::new(ErrorCode::BadRequest, m);
    let (mut status, mut after) = (default, 0);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "status" => {
                status = parse(v)
                    .ok_or_else(|| bad(format!("`status` must be {statuses}, not `{v}`")))?;
            }
            "after" => {
                after = v
                    .parse()
                    .map_err(|_| bad(format!("`after` must be {what}, not `{v}`")))?;
            }
            other => return Err(bad(format!("unknown query parameter `{other}`"))),
        }
    }
    Ok((status, after))
}

/// A decision body: `decision`, one of `choices`' names, and `reason`
/// (trimmed; `None` when absent or blank; at most `max_reason` characters,
/// no U+0000), which the choice `needs_reason` requires (it is shown to the
/// resident). No other field.
pub(crate) fn decision_body<T: Copy + PartialEq>(
    body: &[u8],
    choices: &[(&str, T)],
    needs_reason: T,
    max_reason: usize,
) -> Result<(T, Option<String>), ApiError> {
    use serde_json::Value;
    let obj = super::strict_object(body, &["decision", "reason"])?;
    let decision = match obj.get("decision") {
        None | Some(Value::Null) => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                "`decision` is required",
            ))
        }
        Some(Value::String(s)) => match choices.iter().find(|(name, _)| name == s) {
            Some((_, choice)) => *choice,
            None => {
                let names: Vec<String> = choices.iter().map(|(n, _)| format!("`{n}`")).collect();
                return Err(ApiError::new(
                    ErrorCode::InvalidEnum,
                    format!("`decision` must be {}", names.join(" or ")),
                ));
            }
        },
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "`decision` must be a string",
            ))
        }
    };
    let reason = match obj.get("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.contains('\0') => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "`reason` must not contain U+0000",
            ))
        }
        Some(Value::String(s)) if s.trim().chars().count() > max_reason => {
            return Err(ApiError::new(
                ErrorCode::OutOfRange,
                format!("`reason` is longer than {max_reason} characters"),
            ))
        }
        Some(Value::String(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "`reason` must be a string",
            ))
        }
    };
    if decision == needs_reason && reason.is_none() {
        return Err(ApiError::new(
            ErrorCode::MissingField,
            "a rejection needs a `reason` (shown to the resident)",
        ));
    }
    Ok((decision, reason))
}
