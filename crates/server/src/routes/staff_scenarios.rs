//! The agency's 信易+ scenarios (admin): `POST /api/v1/staff/scenarios`
//! registers one — refused with every reason and path unless it is a
//! benefit (第十八条) — `GET /api/v1/staff/scenarios` lists all, retired
//! ones too, and `POST /api/v1/staff/scenarios/{code}/retire` ends one.
//! Changes are audited with the staff member.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chengxin_domain::scenario::{
    MAX_CODE_CHARS, MAX_CREDIT_YUAN, MAX_DESCRIPTION_CHARS, MAX_PROVIDER_CHARS,
    MAX_RATE_BASIS_POINTS,
};
use chengxin_domain::staff::Right;
use chengxin_jobs::scenarios::{self, CreateError, ScenarioError, StoredScenario};
use serde::Serialize;
use serde_json::json;
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

use super::scenarios::ScenarioBody;
use super::staff::STAFF_401;
use crate::auth::AuthStaff;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::JsonBody;
use crate::middleware::RequestId;
use crate::openapi::schema;
use crate::state::AppState;

/// A scenario as the agency sees it: who registered it and whether retired.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffScenarioBody {
    #[serde(flatten)]
    pub scenario: ScenarioBody,
    /// `staff:NAME` or `operator:NAME`.
    #[schema(example = "staff:wang")]
    pub created_by: String,
    /// RFC 3339, UTC.
    #[schema(example = "2026-11-30T08:00:00Z")]
    pub created_at: String,
    /// RFC 3339, UTC; `null` while offered.
    pub retired_at: Option<String>,
}

fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

impl From<&StoredScenario> for StaffScenarioBody {
    fn from(s: &StoredScenario) -> Self {
        StaffScenarioBody {
            scenario: ScenarioBody::from(s),
            created_by: s.created_by.clone(),
            created_at: rfc3339(s.created_at),
            retired_at: s.retired_at.map(rfc3339),
        }
    }
}

/// A new scenario. `benefit` declares the advantage; `min_grade` or
/// `min_score` (one of them) the minimum.
pub struct ScenarioInput;

impl utoipa::PartialSchema for ScenarioInput {
    fn schema() -> RefOr<Schema> {
        let text = |max: usize, example: &str| json!({"type": "string", "pattern": schema::non_blank_without_nul(Some(max)), "example": example});
        let amount = |kind: &str, field: &str, max: i64| {
            json!({"type": "object", "title": kind,
                   "properties": {"kind": {"type": "string", "enum": [kind]},
                                  field: {"type": "integer", "minimum": 1, "maximum": max}},
                   "required": ["kind", field], "additionalProperties": false})
        };
        let bare = |kind: &str| {
            json!({"type": "object", "title": kind,
                   "properties": {"kind": {"type": "string", "enum": [kind]}},
                   "required": ["kind"], "additionalProperties": false})
        };
        let date = |example: &str| json!({"type": "string", "format": "date", "example": example});
        schema::leaf(json!({
            "type": "object",
            "description": "A provider's benefit. Refused with `scenario_not_incentive` (every reason and \
                            path in the detail) when any part of it is not a benefit: a number at or below \
                            zero, or a description revealing a penalty (surcharge/加价/附加费, deposit \
                            increase/提高押金, denial/拒绝/不予/限制…); with `invalid_scenario` for other \
                            problems (a grade not in the model in force, a score outside its range, both or \
                            neither of `min_grade` and `min_score`, `valid_until` before `valid_from` or past).",
            "properties": {
                "code": {"type": "string", "pattern": format!("^[\\s]*[A-Za-z0-9_-]{{1,{MAX_CODE_CHARS}}}[\\s]*$"), "example": "SX-BUS-01"},
                "provider": text(MAX_PROVIDER_CHARS, "绍兴公交集团"),
                "sector": {"type": "string", "enum": ["finance", "culture_tourism", "hotel_catering", "transport", "rental", "elderly_medical"], "example": "transport"},
                "description_zh": text(MAX_DESCRIPTION_CHARS, "诚信分达标者乘坐公交享受八折优惠"),
                "description_en": text(MAX_DESCRIPTION_CHARS, "20% off bus fares"),
                "benefit": {"oneOf": [
                    amount("discount", "percent", 100),
                    bare("deposit_waiver"),
                    bare("priority"),
                    amount("credit_line", "amount_yuan", MAX_CREDIT_YUAN),
                    amount("rate_reduction", "basis_points", MAX_RATE_BASIS_POINTS),
                    bare("free_service"),
                ], "example": {"kind": "discount", "percent": 20}},
                "min_grade": {"type": "string", "description": "A grade of the model in force.", "example": "AA"},
                "min_score": {"type": "integer", "description": "Within the model in force's range (0–1000)."},
                "valid_from": date("2026-01-01"),
                "valid_until": date("2099-12-31"),
            },
            "required": ["code", "provider", "sector", "description_zh", "description_en", "benefit", "valid_from", "valid_until"],
            "additionalProperties": false,
            "example": {
                "code": "SX-BUS-01", "provider": "绍兴公交集团", "sector": "transport",
                "description_zh": "诚信分达标者乘坐公交享受八折优惠", "description_en": "20% off bus fares",
                "benefit": {"kind": "discount", "percent": 20}, "min_grade": "AA",
                "valid_from": "2026-01-01", "valid_until": "2099-12-31",
            },
        }))
    }
}

impl ToSchema for ScenarioInput {}

pub(crate) fn created_error(e: CreateError) -> ApiError {
    match e {
        CreateError::Invalid(errors) => {
            let code = if errors.not_incentive() {
                ErrorCode::ScenarioNotIncentive
            } else {
                ErrorCode::InvalidScenario
            };
            ApiError::new(code, errors.to_string())
        }
        e @ CreateError::Exists(_) => ApiError::new(ErrorCode::ScenarioExists, e.to_string()),
        CreateError::Job(e) => ApiError::job(e),
    }
}

/// Registers a scenario (admin); audited with the staff member.
#[utoipa::path(
    post,
    path = "/api/v1/staff/scenarios",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    request_body(content = ScenarioInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered; offered from `valid_from`. The change is in the audit log.", body = StaffScenarioBody),
        (status = 400, description = "`unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = STAFF_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`"))),
        (status = 403, description = "`role_forbidden`: only an admin manages scenarios.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`scenario_exists`: the code is taken (retired ones too).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`scenario_not_incentive`: not a benefit (第十八条), every reason and path in the detail; `invalid_scenario`: other problems, likewise; `malformed_json`, `invalid_utf8`, `missing_field`, `invalid_field`, `unknown_field`, `invalid_date`: the body's shape.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<StaffScenarioBody>), ApiError> {
    let actor = me.require(Right::ManageScenarios)?.actor();
    let obj = super::strict_object(&body, &scenarios::FIELDS)?;
    let input = scenarios::parse_input(&serde_json::Value::Object(obj))
        .map_err(|e| ApiError::from_row_code(e.code, e.message))?;
    let created = state
        .blocking(move |ctx| {
            scenarios::create(
                ctx,
                &input,
                &actor,
                Some(&request_id),
                chengxin_jobs::staff::now(),
            )
        })
        .await?
        .map_err(created_error)?;
    Ok((StatusCode::CREATED, Json(StaffScenarioBody::from(&created))))
}

/// Every scenario, retired ones too (admin).
#[utoipa::path(
    get,
    path = "/api/v1/staff/scenarios",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "Every scenario, by code.", body = [StaffScenarioBody]),
        (status = 401, description = STAFF_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`"))),
        (status = 403, description = "`role_forbidden`: only an admin manages scenarios.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    me: AuthStaff,
) -> Result<Json<Vec<StaffScenarioBody>>, ApiError> {
    me.require(Right::ManageScenarios)?;
    let all = state
        .reading(scenarios::list)
        .await?
        .map_err(ApiError::internal)?;
    Ok(Json(all.iter().map(StaffScenarioBody::from).collect()))
}

/// Retires a scenario (admin): no longer offered or checkable; kept on
/// record. Audited with the staff member.
#[utoipa::path(
    post,
    path = "/api/v1/staff/scenarios/{code}/retire",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    params(("code" = String, Path, description = "The scenario's code.")),
    responses(
        (status = 200, description = "Retired; the change is in the audit log.", body = StaffScenarioBody),
        (status = 400, description = "`bad_request`: the path cannot be decoded.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = STAFF_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`"))),
        (status = 403, description = "`role_forbidden`: only an admin manages scenarios.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`scenario_not_found`: no scenario has this code.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`scenario_retired`: it is already retired.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn retire(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
    Path(code): Path<String>,
) -> Result<Json<StaffScenarioBody>, ApiError> {
    let actor = me.require(Right::ManageScenarios)?.actor();
    let retired = state
        .blocking(move |ctx| {
            scenarios::retire(
                ctx,
                &code,
                &actor,
                Some(&request_id),
                chengxin_jobs::staff::now(),
            )
        })
        .await?
        .map_err(retire_error)?;
    Ok(Json(StaffScenarioBody::from(&retired)))
}

/// A refused retirement as the API and the console answer it.
pub(crate) fn retire_error(e: ScenarioError) -> ApiError {
    match e {
        e @ ScenarioError::NotFound(_) => ApiError::new(ErrorCode::ScenarioNotFound, e.to_string()),
        e @ ScenarioError::AlreadyRetired(_) => {
            ApiError::new(ErrorCode::ScenarioRetired, e.to_string())
        }
        ScenarioError::Job(e) => ApiError::job(e),
    }
}
