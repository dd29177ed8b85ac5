//! Liveness and readiness: `GET /api/v1/health`.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode, Problem};
use crate::state::AppState;

/// The service's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the answer is 200.
    #[schema(example = "ok")]
    pub status: String,
    /// The server's version.
    #[schema(example = "0.1.0")]
    pub version: String,
    /// Version of the score model in force.
    #[schema(example = "2026.1")]
    pub model: String,
}

/// Whether the service is up and its database answers.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = super::SERVICE_TAG,
    responses(
        (status = 200, description = "The service and its database are up.", body = Health),
        (status = 503, description = "The database does not answer.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let active = state
        .blocking(chengxin_jobs::model_in_force)
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "health check: the database does not answer");
            ApiError::new(
                ErrorCode::ServiceUnavailable,
                "the database does not answer",
            )
        })?;
    Ok(Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        // The store's, not the one loaded at start: a publish from the CLI
        // takes effect without restarting the server.
        model: active.version,
    }))
}
