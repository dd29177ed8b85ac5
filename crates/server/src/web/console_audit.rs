//! `/console/audit` (auditors): verifies the audit log — the same use case
//! as `chengxin audit verify` (`chengxin_jobs::audit::verify`): the whole
//! hash chain, every signed checkpoint in it against the deployment's key,
//! the recorded head, and that the data tables agree with the log — and
//! shows the result: entries checked, head hash, checkpoints, or the first
//! broken entry. Verifying seals the entries committed so far into the
//! chain, so it is a POST.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chengxin_domain::staff::Right;
use chengxin_jobs::audit::{self, AuditFailure, VerifyReport};

use super::page::{Chrome, WebError};
use super::session::Console;
use crate::error::ApiError;
use crate::state::AppState;

/// What a verification found, as shown.
pub enum Outcome {
    Ok(VerifyReport),
    /// The first broken entry (if the chain itself broke) and why.
    Failed {
        seq: Option<i64>,
        detail: String,
    },
}

/// `GET|POST /console/audit`.
#[derive(Template, WebTemplate)]
#[template(path = "console/audit.html")]
pub struct AuditPage {
    chrome: Chrome,
    outcome: Option<Outcome>,
}

/// `GET /console/audit`: the page with its button.
pub async fn page(c: Console) -> Result<AuditPage, WebError> {
    c.require(Right::ReadAuditLog)?;
    Ok(AuditPage {
        chrome: c.chrome(),
        outcome: None,
    })
}

/// `POST /console/audit`: verifies the log now and shows the result.
pub async fn verify(State(state): State<AppState>, c: Console) -> Result<Response, WebError> {
    c.require(Right::ReadAuditLog)?;
    let result = state
        .blocking(|ctx| audit::verify(ctx, None))
        .await
        .map_err(|e| c.fail(e))?;
    let outcome = match result {
        Ok(report) => Outcome::Ok(report),
        Err(AuditFailure::Job(e)) => return Err(c.fail(ApiError::job(e))),
        Err(AuditFailure::Broken(b)) => Outcome::Failed {
            seq: Some(b.seq),
            detail: b.to_string(),
        },
        Err(e) => Outcome::Failed {
            seq: None,
            detail: e.to_string(),
        },
    };
    Ok((
        StatusCode::OK,
        AuditPage {
            chrome: c.chrome(),
            outcome: Some(outcome),
        },
    )
        .into_response())
}
