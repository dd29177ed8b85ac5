//! Credit commitments (信用承诺, 第八条): the public template list, and a
//! signed-in resident signing one and listing theirs. Signing stores a C01
//! record with the signed text and its hash and rescores the resident in the
//! same transaction; every list is an audited read.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chengxin_jobs::commitments::{self, Commitment, SignError, TemplateView};
use serde::Serialize;
use serde_json::json;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema};
use utoipa::openapi::{RefOr, Type};
use utoipa::ToSchema;

use super::me::RESIDENT_401;
use crate::auth::AuthResident;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::JsonBody;
use crate::middleware::RequestId;
use crate::openapi::schema;
use crate::state::AppState;

/// A commitment template in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateBody {
    #[schema(example = "T01")]
    pub code: String,
    /// The Chinese title.
    #[schema(example = "遵纪守法")]
    pub title: String,
    /// The Chinese text: the one signed.
    pub text: String,
    /// The term of a signature, from the signing day.
    #[schema(example = 12)]
    pub term_months: i32,
    #[schema(example = "Abide by the law")]
    pub title_en: String,
    pub text_en: String,
}

impl From<TemplateView> for TemplateBody {
    fn from(t: TemplateView) -> Self {
        TemplateBody {
            code: t.code,
            title: t.title,
            text: t.text,
            term_months: t.term_months,
            title_en: t.title_en,
            text_en: t.text_en,
        }
    }
}

/// Where a signed commitment stands today.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommitmentStatusBody {
    /// In its term, not breached.
    Active,
    /// The term ended without a breach.
    Fulfilled,
    /// A monitored record (a penalty, a listing) fell inside the term.
    Breached,
    /// The signature no longer stands (its record was withdrawn).
    Expired,
}

/// A signed commitment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitmentBody {
    /// The signature's record id.
    pub id: i64,
    #[schema(example = "T01")]
    pub template: String,
    #[schema(format = Date, example = "2026-11-30")]
    pub signed_on: String,
    /// The last day of the term.
    #[schema(format = Date, example = "2027-11-29")]
    pub valid_until: String,
    pub status: CommitmentStatusBody,
    /// The record that breached it; `null` unless breached.
    pub breached_by: Option<i64>,
}

impl From<Commitment> for CommitmentBody {
    fn from(c: Commitment) -> Self {
        use chengxin_domain::commitment::CommitmentStatus as S;
        CommitmentBody {
            id: c.id,
            template: c.template,
            signed_on: c.signed_on.to_string(),
            valid_until: c.valid_until.to_string(),
            status: match c.status {
                S::Active => CommitmentStatusBody::Active,
                S::Fulfilled => CommitmentStatusBody::Fulfilled,
                S::Breached => CommitmentStatusBody::Breached,
                S::Expired => CommitmentStatusBody::Expired,
            },
            breached_by: c.breached_by,
        }
    }
}

/// A signature: `{"template": "T01"}` and nothing else.
pub struct SignInput;

impl utoipa::PartialSchema for SignInput {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("The template to sign, by code."))
            .property(
                "template",
                schema::leaf(json!({"type": "string", "maxLength": 16, "example": "T01"})),
            )
            .required("template")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl ToSchema for SignInput {}

/// The commitment templates in force (public).
#[utoipa::path(
    get,
    path = "/api/v1/commitment-templates",
    tag = super::RESIDENTS_TAG,
    responses((status = 200, description = "Every template of the templates version in force that takes signatures (retired ones are left out), by code.", body = [TemplateBody])),
)]
pub async fn list_templates(
    State(state): State<AppState>,
) -> Result<Json<Vec<TemplateBody>>, ApiError> {
    let templates = super::read_own(&state, commitments::templates).await?;
    Ok(Json(
        templates.into_iter().map(TemplateBody::from).collect(),
    ))
}

/// Signs a commitment today; the resident is rescored before the answer.
#[utoipa::path(
    post,
    path = "/api/v1/me/commitments",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    request_body(content = SignInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Signed: a C01 record with the signed text and its SHA-256; the score already counts it.", body = CommitmentBody),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
        (status = 400, description = "`unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`commitment_already_active`: a signature of this template is still active; `template_retired`: the template takes no new signatures.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`unknown_template`: no such template; `malformed_json`, `invalid_utf8`, `missing_field`, `invalid_field`, `unknown_field`: the body is not `{\"template\": \"…\"}`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sign(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<CommitmentBody>), ApiError> {
    let template = parse_template(&body)?;
    let signed = state
        .blocking(move |ctx| {
            let me = resident.acting(&request_id);
            commitments::sign(ctx, me, &template)
        })
        .await?
        .map_err(sign_problem)?;
    Ok((StatusCode::CREATED, Json(signed.into())))
}

/// The resident's commitments with where each stands today.
#[utoipa::path(
    get,
    path = "/api/v1/me/commitments",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "Oldest first, signed online or at a counter. The read is in the audit log.", body = [CommitmentBody]),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<Json<Vec<CommitmentBody>>, ApiError> {
    let list = super::read_own(&state, move |ctx| {
        let me = resident.acting(&request_id);
        commitments::list(ctx, me)
    })
    .await?;
    Ok(Json(list.into_iter().map(CommitmentBody::from).collect()))
}

/// Reads `{"template": "T01"}` strictly, with the record codes.
fn parse_template(body: &[u8]) -> Result<String, ApiError> {
    let obj = super::strict_object(body, &["template"])?;
    match obj.get("template") {
        None | Some(serde_json::Value::Null) => Err(ApiError::new(
            ErrorCode::MissingField,
            "`template` is required",
        )),
        Some(serde_json::Value::String(s)) => Ok(s.trim().to_owned()),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidField,
            "`template` must be a string",
        )),
    }
}

/// Maps a refused signature to its problem.
pub(crate) fn sign_problem(e: SignError) -> ApiError {
    match e {
        SignError::UnknownTemplate(t) => ApiError::new(
            ErrorCode::UnknownTemplate,
            format!("there is no commitment template `{t}` (GET /api/v1/commitment-templates lists them)"),
        ),
        e @ SignError::Retired(_) => ApiError::new(ErrorCode::TemplateRetired, e.to_string()),
        e @ SignError::AlreadyActive { .. } => {
            ApiError::new(ErrorCode::CommitmentAlreadyActive, e.to_string())
        }
        SignError::Job(e) => ApiError::job(e),
    }
}
