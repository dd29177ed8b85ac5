//! Objections (异议, 第二十五、二十六条) filed by a signed-in resident:
//! `POST /api/v1/me/objections` (JSON, or `multipart/form-data` with
//! evidence files checked as self-reports' are) and the list with each
//! step's date. The record objected to is flagged `disputed` at once.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::Json;
use chengxin_domain::objection::{ObjectionStatus, MAX_TEXT_CHARS};
use chengxin_jobs::objections::{self, Objection, ObjectionError, Target};
use serde::Serialize;
use serde_json::json;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema};
use utoipa::openapi::{RefOr, Type};
use utoipa::ToSchema;

use super::evidence_form::{self, EvidenceForm};
use super::me::RESIDENT_401;
use super::me_self_reports::EvidenceBody;
use crate::auth::AuthResident;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::media_type;
use crate::middleware::RequestId;
use crate::openapi::schema;
use crate::state::AppState;

/// The largest JSON objection body.
const JSON_LIMIT: usize = 64 * 1024;

/// The JSON body: `{"record_id", "reason"}` or `{"about": "score", "reason"}`.
pub struct ObjectionInput;

impl utoipa::PartialSchema for ObjectionInput {
    fn schema() -> RefOr<Schema> {
        let reason = || {
            schema::leaf(json!({
                "type": "string",
                "maxLength": MAX_TEXT_CHARS,
                "pattern": schema::non_blank_without_nul(Some(MAX_TEXT_CHARS)),
                "description": "Why the record or score is wrong; not blank, at most 2000 characters.",
                "example": "该处罚已于2026年3月被复议撤销",
            }))
        };
        let record = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "record_id",
                schema::leaf(json!({"type": "integer", "format": "int64", "description": "A record's `id` from `GET /me/records`.", "example": 42})),
            )
            .property("reason", reason())
            .required("record_id")
            .required("reason")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let score = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "about",
                schema::leaf(json!({"type": "string", "enum": ["score"]})),
            )
            .property("reason", reason())
            .required("about")
            .required("reason")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        OneOfBuilder::new()
            .description(Some(
                "An objection to one of the caller's records, or to their score as a whole.",
            ))
            .item(Schema::Object(record.build()))
            .item(Schema::Object(score.build()))
            .into()
    }
}

impl ToSchema for ObjectionInput {}

/// The form of `POST /me/objections` with evidence.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the form; the handler reads the parts as they stream
pub struct ObjectionForm {
    /// A record's `id` (decimal); or send `about` instead.
    #[schema(example = "42")]
    record_id: Option<String>,
    /// `score`, for an objection to the score; or send `record_id` instead.
    #[schema(example = "score")]
    about: Option<String>,
    /// Not blank, at most 2000 characters.
    #[schema(example = "该处罚已于2026年3月被复议撤销")]
    reason: String,
    /// 0 to 5 files, each a PDF, JPEG or PNG (judged from the content) of at most 10 MiB.
    #[schema(value_type = Vec<String>, format = Binary, max_items = 5)]
    evidence: Vec<Vec<u8>>,
}

/// An objection's status.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionStatusBody {
    /// Filed; the agency accepts within 2 working days.
    Submitted,
    /// Accepted, with the agency's reviewer.
    Accepted,
    /// Accepted and routed to the record's unit, which replies within 10 working days.
    AwaitingUnit,
    /// Decided: the record was corrected or withdrawn.
    Corrected,
    /// Decided: the record stands; `answer` explains why.
    Explained,
}

impl From<ObjectionStatus> for ObjectionStatusBody {
    fn from(s: ObjectionStatus) -> Self {
        match s {
            ObjectionStatus::Submitted => ObjectionStatusBody::Submitted,
            ObjectionStatus::Accepted => ObjectionStatusBody::Accepted,
            ObjectionStatus::AwaitingUnit => ObjectionStatusBody::AwaitingUnit,
            ObjectionStatus::Corrected => ObjectionStatusBody::Corrected,
            ObjectionStatus::Explained => ObjectionStatusBody::Explained,
        }
    }
}

/// A filed objection.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmittedObjectionBody {
    pub id: i64,
    pub status: ObjectionStatusBody,
    /// The agency accepts by this date: 2 working days after submission.
    #[schema(format = Date, example = "2026-10-09")]
    pub accept_by: String,
    /// Set once accepted: 10 working days after acceptance.
    #[schema(format = Date)]
    pub reply_by: Option<String>,
    /// A deadline was counted through a year without calendar data (Monday
    /// to Friday) and may move once that year is loaded.
    pub provisional: bool,
}

/// One step of an objection.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepBody {
    /// `submitted`, `accepted`, `routed_to_unit`, `unit_replied`, `corrected` or `explained`.
    #[schema(example = "accepted")]
    pub step: String,
    #[schema(format = Date, example = "2026-10-08")]
    pub on: String,
}

/// An objection as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionBody {
    pub id: i64,
    /// The record objected to; `null`: the score.
    pub record_id: Option<i64>,
    pub status: ObjectionStatusBody,
    #[schema(format = Date)]
    pub accept_by: String,
    #[schema(format = Date)]
    pub reply_by: Option<String>,
    /// The agency's explanation (or the note of the correction), once decided.
    pub answer: Option<String>,
    pub provisional: bool,
    pub reason: String,
    /// Each step so far with its date, in order.
    pub steps: Vec<StepBody>,
    /// Past its acceptance or reply deadline today.
    pub overdue: bool,
    /// When the daily run first found it overdue.
    #[schema(format = Date)]
    pub overdue_on: Option<String>,
    pub evidence: Vec<EvidenceBody>,
    /// Staff and units: the unit it is routed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Staff and units: the unit's reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// Staff and units: the resident's ID number, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    /// Staff and units: the resident's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl From<Objection> for ObjectionBody {
    fn from(o: Objection) -> Self {
        ObjectionBody {
            id: o.id,
            record_id: o.record_id,
            status: o.status.into(),
            accept_by: o.accept_by.to_string(),
            reply_by: o.reply_by.map(|d| d.to_string()),
            answer: o.answer,
            provisional: o.provisional,
            reason: o.reason,
            steps: o
                .steps
                .into_iter()
                .map(|s| StepBody {
                    step: s.step.to_owned(),
                    on: s.on.to_string(),
                })
                .collect(),
            overdue: o.overdue,
            overdue_on: o.overdue_on.map(|d| d.to_string()),
            evidence: o
                .evidence
                .into_iter()
                .map(|e| EvidenceBody {
                    sha256: e.sha256,
                    media_type: e.media_type,
                    size: e.size,
                })
                .collect(),
            unit: o.unit,
            reply: o.reply,
            id_number: o.id_number,
            name: o.name,
        }
    }
}

/// Maps a refusal to its problem.
pub(crate) fn problem(e: ObjectionError) -> ApiError {
    let code = match &e {
        ObjectionError::RecordNotFound(_) | ObjectionError::NoScore => {
            ErrorCode::ObjectionRecordNotFound
        }
        ObjectionError::AlreadyOpen(_) => ErrorCode::ObjectionAlreadyOpen,
        ObjectionError::NotDisputable(_) => ErrorCode::RecordNotDisputable,
        ObjectionError::Text(code, m) => return ApiError::from_row_code(code, m.clone()),
        ObjectionError::Evidence(ev) => return ApiError::from_row_code(ev.code(), ev.to_string()),
        ObjectionError::NotFound(_) => ErrorCode::ObjectionNotFound,
        ObjectionError::WrongState { .. } => ErrorCode::ObjectionWrongState,
        ObjectionError::NotCorrected(_) => ErrorCode::ObjectionNotCorrected,
        ObjectionError::Forbidden(_) => ErrorCode::RoleForbidden,
        ObjectionError::Job(j) => return ApiError::internal(j),
    };
    ApiError::new(code, e.to_string())
}

/// The target and reason of a JSON body.
fn parse_json(body: &[u8]) -> Result<(Target, String), ApiError> {
    let obj = super::strict_object(body, &["record_id", "about", "reason"])?;
    let target = match (obj.get("record_id"), obj.get("about")) {
        (Some(r), None) => Target::Record(r.as_i64().ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidField, "`record_id` must be an integer")
        })?),
        (None, Some(a)) => about(a.as_str().unwrap_or_default())?,
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "send either `record_id` or `about`, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                "`record_id` (or `\"about\": \"score\"`) is required",
            ))
        }
    };
    let reason = match obj.get("reason") {
        None | Some(serde_json::Value::Null) => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                "`reason` is required",
            ))
        }
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "`reason` must be a string",
            ))
        }
    };
    Ok((target, reason))
}

fn about(v: &str) -> Result<Target, ApiError> {
    if v == "score" {
        Ok(Target::Score)
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidEnum,
            "`about` must be `score`",
        ))
    }
}

/// The target, reason and evidence of a form.
async fn parse_form(form: Multipart) -> Result<(Target, String, Vec<Vec<u8>>), ApiError> {
    let form = evidence_form::read(
        form,
        |n| matches!(n, "record_id" | "about" | "reason"),
        "`record_id` or `about`, `reason` and `evidence`",
        false,
    )
    .await?;
    let (target, reason) = form_target(&form)?;
    Ok((target, reason, form.evidence))
}

/// The target and reason of a form's text parts (the API's and the page's).
pub(crate) fn form_target(form: &EvidenceForm) -> Result<(Target, String), ApiError> {
    let target = match (form.text("record_id"), form.text("about")) {
        (Some(r), None) => Target::Record(r.parse().map_err(|_| {
            ApiError::new(ErrorCode::InvalidField, "`record_id` must be an integer")
        })?),
        (None, Some(a)) => about(a)?,
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "send either `record_id` or `about`, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                "`record_id` (or `about` = `score`) is required",
            ))
        }
    };
    let reason = form
        .raw("reason")
        .map(str::to_owned)
        .ok_or_else(|| ApiError::new(ErrorCode::MissingField, "`reason` is required"))?;
    Ok((target, reason))
}

/// Files an objection to one of the caller's records or to their score.
#[utoipa::path(
    post,
    path = "/api/v1/me/objections",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    request_body(content(
        (ObjectionInput = "application/json"),
        (ObjectionForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Filed; a record objected to is `disputed` at once (it still counts, visibly flagged). Deadlines in working days from the calendar in force.", body = SubmittedObjectionBody),
        (status = 400, description = "`malformed_multipart`: the form cannot be parsed; `unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
        (status = 404, description = "`objection_record_not_found`: no such record of the caller's (another person's is not revealed), or no score held.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`objection_already_open`: an objection to the same record (or the score) is open; `record_not_disputable`: the record no longer counts.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`evidence_too_large`: a file is over 10 MiB; `payload_too_large`: the body is over 51 MiB (64 KiB as JSON).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: neither `application/json` nor `multipart/form-data`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`missing_field` (no `record_id`/`about`, no or a blank `reason`), `invalid_field`, `invalid_enum` (`about` not `score`), `out_of_range` (reason over 2000 characters), `unknown_field`, `malformed_json`, `invalid_utf8`; `too_many_evidence_files`, `evidence_type_not_allowed`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
    req: Request,
) -> Result<(StatusCode, Json<SubmittedObjectionBody>), ApiError> {
    let (target, reason, evidence) = match media_type(req.headers()).as_deref() {
        Some("application/json") => {
            let body = axum::body::to_bytes(req.into_body(), JSON_LIMIT)
                .await
                .map_err(|_| {
                    ApiError::new(
                        ErrorCode::PayloadTooLarge,
                        format!("a JSON objection may be at most {JSON_LIMIT} bytes"),
                    )
                })?;
            let (t, r) = parse_json(&body)?;
            (t, r, Vec::new())
        }
        Some("multipart/form-data") => {
            let form = Multipart::from_request(req, &state)
                .await
                .map_err(|e| ApiError::new(ErrorCode::MalformedMultipart, e.body_text()))?;
            parse_form(form).await?
        }
        _ => return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "an objection is sent as `application/json` or `multipart/form-data` (with evidence)",
        )),
    };
    let stored = state
        .blocking(move |ctx| {
            let me = resident.acting(&request_id);
            objections::submit(ctx, me, target, &reason, &evidence, chengxin_jobs::today())
        })
        .await?
        .map_err(problem)?;
    Ok((
        StatusCode::CREATED,
        Json(SubmittedObjectionBody {
            id: stored.id,
            status: stored.status.into(),
            accept_by: stored.accept_by.to_string(),
            reply_by: stored.reply_by.map(|d| d.to_string()),
            provisional: stored.provisional,
        }),
    ))
}

/// The caller's objections with each step and its date.
#[utoipa::path(
    get,
    path = "/api/v1/me/objections",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "Oldest first. The read is in the audit log.", body = [ObjectionBody]),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<Json<Vec<ObjectionBody>>, ApiError> {
    let list = super::read_own(&state, move |ctx| {
        let me = resident.acting(&request_id);
        objections::list_mine(ctx, me, chengxin_jobs::today())
    })
    .await?;
    Ok(Json(list.into_iter().map(ObjectionBody::from).collect()))
}
