//! The signed-in resident's own data: `GET /api/v1/me` (第十七条). Every
//! read is audited with the resident as the actor before it is answered.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthResident;
use crate::error::{ApiError, Problem};
use crate::middleware::RequestId;
use crate::state::AppState;

/// Why a resident has no score.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonBody {
    /// `UNDER_18`, `LIMITED_CAPACITY` or `NOT_RESIDENT`.
    #[schema(example = "NOT_RESIDENT")]
    pub code: String,
    #[schema(example = "非本市常住人口（无本市有效户籍或有效居住证）")]
    pub zh: String,
    #[schema(
        example = "Not a resident of the city (no active household registration or valid residence permit)"
    )]
    pub en: String,
}

/// Who the signed-in resident is and whether they have a score.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeBody {
    /// Their ID number in full (it is their own).
    #[schema(example = "330602199001011231")]
    pub id_number: String,
    /// The name on file, else the one in their ID token.
    #[schema(example = "张三")]
    pub name: Option<String>,
    /// Whether they have a score (第三条) today.
    pub eligible: bool,
    /// Why not, when not eligible; empty otherwise. Someone the platform
    /// holds nothing about is `NOT_RESIDENT` (and `UNDER_18` if so).
    pub reasons: Vec<ReasonBody>,
}

/// The 401 answers of every resident endpoint.
pub const RESIDENT_401: &str = "`unauthenticated`: no `Authorization: Bearer ID_TOKEN` header (or sign-in is not configured); \
`token_expired`, `token_bad_signature`, `token_wrong_audience`, `token_wrong_issuer`, `token_unknown_key`, `token_malformed`: \
the ID token was refused for that reason (see ERRORS.md).";

/// The signed-in resident: ID number, name and eligibility.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "The resident, as of today under the model in force. The read is in the audit log.", body = MeBody),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn get_me(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<Json<MeBody>, ApiError> {
    let p = state
        .reading(move |ctx| {
            chengxin_jobs::me::profile(
                ctx,
                &resident.id_number,
                resident.name.as_deref(),
                Some(&request_id),
            )
        })
        .await?
        .map_err(ApiError::internal)?;
    Ok(Json(MeBody {
        id_number: p.id_number,
        name: p.name,
        eligible: p.eligible,
        reasons: p
            .reasons
            .into_iter()
            .map(|r| ReasonBody {
                code: r.code.to_owned(),
                zh: r.zh.to_owned(),
                en: r.en.to_owned(),
            })
            .collect(),
    }))
}
