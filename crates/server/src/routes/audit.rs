//! The published audit checkpoint: `GET /api/v1/audit/checkpoint` (public).
//! Witnesses (partner cities, auditors) fetch it, co-sign it with
//! `chengxin audit witness` and keep it; `chengxin audit verify --checkpoint`
//! then proves the log still extends it, so a cut tail is caught.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode, Problem};
use crate::state::AppState;

/// The latest signed checkpoint written into the audit log: its size and
/// head hash, signed with the deployment's audit key. No personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedCheckpoint {
    /// Entries the checkpoint vouches for (the log's first `size` entries).
    #[schema(example = 1000)]
    pub size: i64,
    /// Hex SHA-256 hash of entry `size`, which chains every entry before it.
    #[schema(example = "9f2c0d6a6cb0f6d1a0f3e3c5b1a4d2e7c8b9a0f1e2d3c4b5a69788796a5b4c3d")]
    pub head: String,
    /// When it was signed (RFC 3339, UTC).
    #[schema(example = "2026-11-30T08:00:00Z")]
    pub signed_at: String,
    /// The deployment's Ed25519 audit public key, base64.
    pub public_key: String,
    /// Ed25519 signature, base64, over
    /// `chengxin-audit-checkpoint\n{size}\n{head}\n{signed_at}`.
    pub signature: String,
}

/// The latest signed checkpoint of the audit log, for witnesses. (A log
/// with none yet gets its first one now.)
#[utoipa::path(
    get,
    path = "/api/v1/audit/checkpoint",
    tag = super::SERVICE_TAG,
    responses(
        (status = 200, description = "The latest signed checkpoint.", body = PublishedCheckpoint),
        (status = 503, description = "`service_unavailable`: the database does not answer.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn checkpoint(
    State(state): State<AppState>,
) -> Result<Json<PublishedCheckpoint>, ApiError> {
    let cp = state
        .blocking(|ctx| match chengxin_jobs::audit::latest_checkpoint(ctx)? {
            Some(cp) => Ok(cp),
            None => chengxin_jobs::audit::checkpoint(ctx),
        })
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "reading the audit checkpoint failed");
            ApiError::new(
                ErrorCode::ServiceUnavailable,
                "the database does not answer",
            )
        })?;
    Ok(Json(PublishedCheckpoint {
        size: cp.size,
        head: cp.head,
        signed_at: cp.signed_at,
        public_key: cp.public_key,
        signature: cp.signature,
    }))
}
