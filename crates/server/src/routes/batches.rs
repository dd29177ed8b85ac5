//! Batches pushed by units: `POST /api/v1/batches` streams a JSON Lines or CSV
//! body (never buffered whole) through the same row validation as the CLI
//! import; `GET /api/v1/batches/{id}` returns the receipt to its submitter.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_LENGTH, LOCATION};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chengxin_ingest::{Format, ReadError};
use chengxin_jobs::batches::{self, BatchError, BatchReceipt, BatchRowError, BatchStatus};
use chengxin_jobs::push::Caller;
use chengxin_jobs::JobError;
use futures_util::StreamExt;
use serde::Serialize;
use tokio_util::io::{StreamReader, SyncIoBridge};
use utoipa::ToSchema;

use crate::auth::AuthUnit;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{media_type, PathParam};
use crate::middleware::RequestId;
use crate::state::AppState;

/// The header that makes a batch submission idempotent.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

const MAX_IDEMPOTENCY_KEY: usize = 255;
const MAX_BATCH_ID: usize = 128;

/// A rejected row.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchRowErrorBody {
    /// 1-based line of the body (for CSV, the line the record starts on).
    pub line: u64,
    /// A validation code from the error table (e.g. `id_check_digit`, `line_too_long`).
    pub code: String,
    pub message: String,
    /// The row's `source_id`, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
}

/// Where a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatusBody {
    /// A request is still storing its rows.
    Processing,
    /// Every row was handled.
    Completed,
}

/// A batch's receipt: counts and every rejected row.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchReceiptBody {
    pub id: String,
    /// The submitting unit.
    pub unit: String,
    /// `completed`, or `processing` while a request is still storing its rows.
    pub status: BatchStatusBody,
    /// New records stored.
    pub accepted: u64,
    /// Rows identical to what was stored: nothing changed.
    pub duplicate: u64,
    /// Rows stored as a new version of a known `source_id`.
    pub corrected: u64,
    /// Rows rejected; each is listed in `errors`.
    pub rejected: u64,
    pub errors: Vec<BatchRowErrorBody>,
    pub created_at: String,
}

impl From<BatchReceipt> for BatchReceiptBody {
    fn from(r: BatchReceipt) -> Self {
        BatchReceiptBody {
            id: r.id,
            unit: r.unit,
            status: match r.status {
                BatchStatus::Processing => BatchStatusBody::Processing,
                BatchStatus::Completed => BatchStatusBody::Completed,
            },
            accepted: r.accepted,
            duplicate: r.duplicate,
            corrected: r.corrected,
            rejected: r.rejected,
            errors: r.errors.into_iter().map(BatchRowErrorBody::from).collect(),
            created_at: r.created_at,
        }
    }
}

impl From<BatchRowError> for BatchRowErrorBody {
    fn from(e: BatchRowError) -> Self {
        BatchRowErrorBody {
            line: e.line,
            code: e.code,
            message: e.message,
            source_id: e.source_id,
        }
    }
}

/// Submits a batch of records. Rows are validated one by one as in the CLI
/// import: a bad row is listed in the receipt and the others are stored.
#[utoipa::path(
    post,
    path = "/api/v1/batches",
    tag = super::UNITS_TAG,
    security(("unit_key" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "Repeat with the same body to get the same receipt; reuse with another body is refused."),
    ),
    request_body(
        description = "JSON Lines (one record per line, the import format; `unit` optional) or CSV with the same columns and `fields.` prefixes. At most 100 MB.",
        content(("application/x-ndjson"), ("application/jsonl"), ("text/csv")),
    ),
    responses(
        (status = 201, description = "Processed.", body = BatchReceiptBody,
         headers(("Location" = String, description = "The receipt's URL."))),
        (status = 409, description = "`batch_in_progress`: another request with this `Idempotency-Key` is still processing it; retry after `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait before sending the batch again."))),
        (status = 400, description = "`invalid_idempotency_key` or `unreadable_input`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large` (100 MB)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`missing_column`, `malformed_csv` or `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit_batch(
    State(state): State<AppState>,
    AuthUnit(unit): AuthUnit,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let format = batch_format(&headers)?;
    let key = idempotency_key(&headers)?;
    let limit = state.limits.batch_body;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let over = Arc::new(AtomicBool::new(false));
    let reader = SyncIoBridge::new(StreamReader::new(limited(body, limit, Arc::clone(&over))));
    let result = state
        .blocking(move |ctx| {
            let caller = Caller {
                unit: &unit,
                request_id: Some(&request_id),
            };
            batches::submit_batch(ctx, caller, format, reader, key.as_deref())
        })
        .await?;
    if over.load(Ordering::Relaxed) {
        return Err(too_large(limit));
    }
    let receipt = result.map_err(batch_error)?;
    let status = StatusCode::CREATED;
    let location = HeaderValue::from_str(&format!("/api/v1/batches/{}", receipt.id))
        .map_err(ApiError::internal)?;
    let body = BatchReceiptBody::from(receipt);
    Ok((status, [(LOCATION, location)], Json(body)).into_response())
}

/// A batch's receipt; only the unit that submitted it may read it.
#[utoipa::path(
    get,
    path = "/api/v1/batches/{id}",
    tag = super::UNITS_TAG,
    security(("unit_key" = [])),
    params(("id" = String, Path, description = "The batch id from the submission's receipt.")),
    responses(
        (status = 200, description = "The receipt.", body = BatchReceiptBody),
        (status = 401, description = "`unauthenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`batch_not_found` (also for another unit's batch)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_batch(
    State(state): State<AppState>,
    AuthUnit(unit): AuthUnit,
    PathParam(id): PathParam,
) -> Result<Json<BatchReceiptBody>, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::BatchNotFound,
            "this unit submitted no batch with this id",
        )
    };
    if id.is_empty() || id.len() > MAX_BATCH_ID {
        return Err(not_found());
    }
    let receipt = state
        .blocking(move |ctx| batches::batch_receipt(ctx, &unit, &id))
        .await?
        .map_err(ApiError::internal)?;
    receipt
        .map(|r| Json(BatchReceiptBody::from(r)))
        .ok_or_else(not_found)
}

/// The body as a stream of chunks that fails (and raises `over`) once more
/// than `limit` bytes have arrived.
fn limited(
    body: Body,
    limit: usize,
    over: Arc<AtomicBool>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + Unpin {
    let mut seen = 0usize;
    body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen = seen.saturating_add(chunk.len());
        if seen > limit {
            over.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other(
                "the body exceeds the batch size limit",
            ));
        }
        Ok(chunk)
    })
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("a batch body may be at most {limit} bytes; split the batch"),
    )
}

fn batch_format(headers: &HeaderMap) -> Result<Format, ApiError> {
    match media_type(headers).as_deref() {
        Some("application/x-ndjson" | "application/jsonl") => Ok(Format::Jsonl),
        Some("text/csv") => Ok(Format::Csv),
        other => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "send a batch as `application/x-ndjson`, `application/jsonl` or `text/csv`, not `{}`",
                other.unwrap_or_default()
            ),
        )),
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value.to_str().map(str::trim).unwrap_or_default();
    let printable = key.bytes().all(|b| (0x20..0x7f).contains(&b));
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || !printable {
        return Err(ApiError::new(
            ErrorCode::InvalidIdempotencyKey,
            format!(
                "`Idempotency-Key` must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"
            ),
        ));
    }
    Ok(Some(key.to_owned()))
}

fn batch_error(e: BatchError) -> ApiError {
    match e {
        BatchError::IdempotencyConflict => {
            ApiError::new(ErrorCode::IdempotencyKeyReused, e.to_string())
        }
        BatchError::InProgress { retry_after } => {
            ApiError::new(ErrorCode::BatchInProgress, e.to_string()).retry_after(retry_after)
        }
        BatchError::Unreadable(e) | BatchError::Job(JobError::Read(e)) => read_error(&e),
        BatchError::Job(e) => ApiError::internal(e),
    }
}

fn read_error(e: &ReadError) -> ApiError {
    if let ReadError::Io(io) = e {
        tracing::info!(error = %io, "batch body could not be read");
    }
    ApiError::from_row_code(e.code(), e.to_string())
}
