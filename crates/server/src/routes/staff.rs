//! Agency staff sign-in: `POST /api/v1/staff/sessions` for a bearer token,
//! `DELETE /api/v1/staff/sessions/current` to end it, and
//! `GET /api/v1/staff/me` (who the token belongs to, their role and rights).

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use chengxin_domain::staff::Right;
use chengxin_jobs::staff::{self, Attempt, SignInError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthStaff;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::JsonBody;
use crate::middleware::RequestId;
use crate::state::AppState;

/// A staff member's credentials (the body is read strictly: no other field).
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body `credentials` reads
pub struct SignInRequest {
    #[schema(example = "wang")]
    pub name: String,
    /// At least 12 characters.
    #[schema(example = "correct horse battery")]
    pub password: String,
}

/// A new staff session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionBody {
    /// The bearer token (`cxs_…`), shown once: send it as
    /// `Authorization: Bearer TOKEN`.
    #[schema(example = "cxs_Vb0mW3n1Yc2Qj9kU8r7e6t5y4u3i2o1p0a9s8d7f6g5")]
    pub token: String,
    /// When it stops working (RFC 3339, UTC): 8 hours after sign-in.
    #[schema(example = "2026-11-30T16:00:00Z")]
    pub expires_at: String,
}

/// The signed-in staff member.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMeBody {
    #[schema(example = "wang")]
    pub name: String,
    /// `admin`, `reviewer` or `auditor`.
    #[schema(example = "reviewer")]
    pub role: String,
    /// The rights the role holds.
    #[schema(example = json!(["decide_self_reports", "decide_objections", "decide_repairs", "view_statistics"]))]
    pub rights: Vec<String>,
}

/// The 401 answer of every endpoint needing a staff session.
pub const STAFF_401: &str = "`unauthenticated`: no `Authorization: Bearer TOKEN` header, or the token is unknown, expired or signed out, or the account is disabled.";

fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn credentials(body: &[u8]) -> Result<(String, String), ApiError> {
    let obj = super::strict_object(body, &["name", "password"])?;
    let field = |k: &str| match obj.get(k) {
        None | Some(serde_json::Value::Null) => Err(ApiError::new(
            ErrorCode::MissingField,
            format!("`{k}` is required"),
        )),
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidField,
            format!("`{k}` must be a string"),
        )),
    };
    Ok((field("name")?, field("password")?))
}

/// Signs a staff member in with name and password.
#[utoipa::path(
    post,
    path = "/api/v1/staff/sessions",
    tag = super::STAFF_TAG,
    request_body(content = SignInRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Signed in; the sign-in is in the audit log.", body = SessionBody),
        (status = 400, description = "`unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_credentials`: unknown name, wrong password or disabled account (not saying which).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`malformed_json`, `invalid_utf8`, `missing_field`, `invalid_field`, `unknown_field`: the body is not `{\"name\", \"password\"}`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_sign_ins`: too many failures for this account or from this address; see `Retry-After`.", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait before trying again."))),
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    peer: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<SessionBody>), ApiError> {
    let (name, password) = credentials(&body)?;
    let address = peer.map_or_else(
        || "unknown".to_owned(),
        |axum::Extension(ConnectInfo(a))| a.ip().to_string(),
    );
    let limiter = state.staff_sign_ins.clone();
    let session = state
        .blocking(move |ctx| {
            let attempt = Attempt {
                name: &name,
                password: &password,
                address: &address,
                request_id: Some(&request_id),
                now: staff::now(),
            };
            staff::sign_in(ctx, &limiter, attempt)
        })
        .await?
        .map_err(|e| match e {
            SignInError::Refused => ApiError::new(
                ErrorCode::InvalidCredentials,
                "the name or password is wrong, or the account is disabled (账号或密码错误，或账号已停用)",
            ),
            SignInError::Limited { retry_after } => ApiError::new(
                ErrorCode::TooManySignIns,
                format!("too many failed sign-ins; try again in {retry_after} s (登录失败次数过多，请稍后再试)"),
            )
            .retry_after(retry_after),
            SignInError::Job(e) => ApiError::job(e),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(SessionBody {
            token: session.token,
            expires_at: rfc3339(session.expires_at),
        }),
    ))
}

/// Ends the caller's session: its token stops working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/staff/sessions/current",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    responses(
        (status = 204, description = "Signed out; the sign-out is in the audit log."),
        (status = 401, description = STAFF_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`"))),
    )
)]
pub async fn sign_out(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
) -> Result<StatusCode, ApiError> {
    state
        .blocking(move |ctx| staff::sign_out(ctx, &me.token, Some(&request_id)))
        .await?
        .map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the session belongs to: name, role and the rights the role holds.
#[utoipa::path(
    get,
    path = "/api/v1/staff/me",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The signed-in staff member.", body = StaffMeBody),
        (status = 401, description = STAFF_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`"))),
    )
)]
pub async fn me(me: AuthStaff) -> Json<StaffMeBody> {
    let m = &me.member;
    Json(StaffMeBody {
        name: m.name.clone(),
        role: m.role.as_str().to_owned(),
        rights: m
            .role
            .rights()
            .into_iter()
            .map(|r: Right| r.as_str().to_owned())
            .collect(),
    })
}
