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
use chengxin_jobs::batches::{
    self, BatchControl, BatchError, BatchReceipt, BatchRowError, BatchStatus,
};
use chengxin_jobs::push::Caller;
use chengxin_jobs::JobError;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;
use tokio_util::io::{StreamReader, SyncIoBridge};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use crate::auth::{bearer_key_of, AuthUnit};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{media_type, PathParam};
use crate::middleware::{ClientRequestId, RequestId};
use crate::openapi::schema;
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
    /// Its request stopped early (`interrupted_by` says why); the same body
    /// under the same `Idempotency-Key` resumes after `applied_through_line`.
    Interrupted,
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
    /// Rows whose `source_version` is lower than the stored version's: not applied.
    pub stale: u64,
    /// Rows rejected; each is listed in `errors`.
    pub rejected: u64,
    pub errors: Vec<BatchRowErrorBody>,
    pub created_at: String,
    /// Every line of the body up to and including this one was applied (0: none yet).
    pub applied_through_line: u64,
    /// Why an `interrupted` batch stopped: `unit_disabled`, `cancelled`,
    /// `chunk_failed` or `unreadable_input`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted_by: Option<String>,
}

impl From<BatchReceipt> for BatchReceiptBody {
    fn from(r: BatchReceipt) -> Self {
        BatchReceiptBody {
            id: r.id,
            unit: r.unit,
            status: match r.status {
                BatchStatus::Processing => BatchStatusBody::Processing,
                BatchStatus::Completed => BatchStatusBody::Completed,
                BatchStatus::Interrupted => BatchStatusBody::Interrupted,
            },
            accepted: r.accepted,
            duplicate: r.duplicate,
            corrected: r.corrected,
            stale: r.stale,
            rejected: r.rejected,
            errors: r.errors.into_iter().map(BatchRowErrorBody::from).collect(),
            created_at: r.created_at,
            applied_through_line: r.applied_through_line,
            interrupted_by: r.interrupted_by,
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

/// A JSON Lines batch: any text; each non-blank line is one record (see
/// `RecordInput`), validated on its own.
pub struct JsonLinesBatch;

impl utoipa::PartialSchema for JsonLinesBatch {
    fn schema() -> RefOr<Schema> {
        // No `type`: any text is a batch (its bad lines are rejected one by
        // one in the receipt), so there is no body this endpoint refuses.
        ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .description(Some(
                "Text: lines of JSON objects, each a record in the import format (`unit` optional). \
                 Blank lines are skipped; any other line that is not a valid record, or is over \
                 64 KiB (`line_too_long`), is listed in the receipt's `errors`.",
            ))
            .into()
    }
}

impl ToSchema for JsonLinesBatch {}

/// A CSV batch: a header naming at least `source_id`, `item` and `id_number`.
pub struct CsvBatch;

impl utoipa::PartialSchema for CsvBatch {
    fn schema() -> RefOr<Schema> {
        schema::leaf(json!({
            "type": "string",
            // Stricter than the server (which takes the columns in any order,
            // quoted, with surrounding spaces) so that it stays readable.
            "pattern": r#"^\ufeff?(?:unit,)?source_id,item,id_number(?:,[^\r\n",]*)*(?:\r?\n[\s\S]*)?$"#,
            "description": "CSV (RFC 4180) with a header row. The header must name the columns `source_id`, \
                            `item` and `id_number` (`missing_column` otherwise); `unit`, `name`, \
                            `source_version` and `fields.NAME` columns are optional, and an empty cell \
                            counts as absent. A record running on past 64 KiB (an unclosed quote) is \
                            rejected as `record_too_long` and the rest of the body is not read as records. \
                            This pattern states the canonical header order; the server accepts the \
                            columns in any order.",
        }))
    }
}

impl ToSchema for CsvBatch {}

const CSV_EXAMPLE: &str = "source_id,item,id_number,name,fields.level,fields.decided_on,fields.authority,fields.case_no,fields.domain\n\
    2026-000124,P01,330602199001011231,张三,general,2026-03-01,绍兴市税务局,绍税罚〔2026〕13号,tax\n";

/// Two lines: the P01 and B03 record examples.
fn jsonl_example() -> String {
    let catalogue = chengxin_domain::Catalogue::builtin();
    ["P01", "B03"]
        .iter()
        .filter_map(|code| catalogue.item(code))
        .map(|item| schema::record_example(&catalogue, item).to_string() + "\n")
        .collect()
}

/// Submits a batch of records. Rows are validated one by one as in the CLI
/// import: a bad row is listed in the receipt and the others are stored.
#[utoipa::path(
    post,
    path = "/api/v1/batches",
    tag = super::UNITS_TAG,
    security(("unit_key" = [])),
    params(
        ("Idempotency-Key" = String, Header, min_length = 1, max_length = 255,
         pattern = "^[ \\t]*[!-~](?:[ -~]{0,253}[!-~])?[ \\t]*$", example = "2026-11-30-tax-1",
         description = "Required (`idempotency_key_required` without it). 1 to 255 printable ASCII \
                        characters (`invalid_idempotency_key` otherwise); surrounding spaces and tabs \
                        are not part of it (HTTP drops them). Repeat with the same body to get the same \
                        receipt, or to resume a batch that stopped after the lines it applied; reuse \
                        with another body is refused."),
    ),
    request_body(
        description = "JSON Lines (one record per line, the import format; `unit` optional) or CSV with \
                       the same columns and `fields.` prefixes. At most 100 MB. Each row is validated \
                       on its own: a bad row is listed in the receipt, never refuses the batch.",
        content(
            (JsonLinesBatch = "application/x-ndjson", example = json!(jsonl_example())),
            (JsonLinesBatch = "application/jsonl"),
            (CsvBatch = "text/csv", example = json!(CSV_EXAMPLE)),
        ),
    ),
    responses(
        (status = 201, description = "Processed.", body = BatchReceiptBody,
         headers(("Location" = String, description = "The receipt's URL."))),
        (status = 409, description = "`batch_in_progress`: another request with this `Idempotency-Key` is still processing it; send it again after `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait before sending the batch again."))),
        (status = 400, description = "`idempotency_key_required`: no `Idempotency-Key` header; `invalid_idempotency_key`; or `unreadable_input` (the upload broke off; lines applied before are kept: resend to resume).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_batches`: the unit already has its most batches running at once; or `too_many_requests`: this key has its most requests in flight. Retry after `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`batch_interrupted`: storing a chunk failed; the receipt says which lines were applied; resend the same body under the same key to resume. Or `server_busy`: the server has its most requests in flight.", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 413, description = "`payload_too_large`: the body is over 100 MB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not one of the request's content types.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`missing_column` or `malformed_csv` (the CSV header), or `idempotency_key_reused` (another body under this key: after the batch completed, or when resuming one whose applied lines differ).", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit_batch(
    State(state): State<AppState>,
    AuthUnit(unit): AuthUnit,
    RequestId(request_id): RequestId,
    ClientRequestId(client_request_id): ClientRequestId,
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
    let Some(slot) = state.batch_slot(&unit.code) else {
        return Err(ApiError::new(
            ErrorCode::TooManyBatches,
            format!(
                "this unit already has {} batches running; send this one when one of them is done",
                state.limits.batches_per_unit
            ),
        )
        .retry_after(BATCH_RETRY_AFTER));
    };
    let control = BatchControl {
        cancelled: Arc::new(AtomicBool::new(false)),
        key: bearer_key_of(&headers)?,
        lease_seconds: i64::try_from(state.limits.batch_lease.as_secs().max(1)).unwrap_or(15),
    };
    // Dropped with this future (timeout, client gone): the batch stops
    // before its next chunk instead of running on unobserved.
    let _cancel = CancelOnDrop(Arc::clone(&control.cancelled));
    let over = Arc::new(AtomicBool::new(false));
    let reader = SyncIoBridge::new(StreamReader::new(limited(body, limit, Arc::clone(&over))));
    let result = state
        .blocking_unlimited(move |ctx| {
            // Held until the work ends, which may be after this request's
            // answer when it was cancelled (it stops at the next chunk).
            let _slot = slot;
            let caller = Caller {
                unit: &unit,
                request_id: Some(&request_id),
                client_request_id: client_request_id.as_deref(),
            };
            batches::submit_batch(ctx, caller, format, reader, &key, &control)
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

/// Seconds a unit at its batch limit is told to wait.
const BATCH_RETRY_AFTER: u64 = 5;

/// Raises its flag when dropped.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A batch's receipt; only the unit that submitted it may read it.
#[utoipa::path(
    get,
    path = "/api/v1/batches/{id}",
    tag = super::UNITS_TAG,
    security(("unit_key" = [])),
    params(("id" = String, Path, min_length = 1, max_length = 128,
            description = "The batch id from the submission's receipt.")),
    responses(
        (status = 200, description = "The receipt.", body = BatchReceiptBody),
        (status = 400, description = "`bad_request`: the path cannot be decoded.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`batch_not_found` (also for another unit's batch)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_batch(
    State(state): State<AppState>,
    AuthUnit(unit): AuthUnit,
    RequestId(request_id): RequestId,
    ClientRequestId(client_request_id): ClientRequestId,
    PathParam(id): PathParam,
) -> Result<Json<BatchReceiptBody>, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::BatchNotFound,
            "this unit submitted no batch with this id",
        )
    };
    if id.is_empty() || id.len() > MAX_BATCH_ID || chengxin_domain::text::check(&id).is_err() {
        return Err(not_found());
    }
    let receipt = state
        .blocking(move |ctx| {
            let caller = Caller {
                unit: &unit,
                request_id: Some(&request_id),
                client_request_id: client_request_id.as_deref(),
            };
            batches::batch_receipt(ctx, caller, &id)
        })
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

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Err(ApiError::new(
            ErrorCode::IdempotencyKeyRequired,
            "send an `Idempotency-Key` header (1 to 255 printable ASCII characters, unique per \
             batch): a retry under the same key applies each row once",
        ));
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
    Ok(key.to_owned())
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
        BatchError::Interrupted(r) => interrupted(&r),
        BatchError::LostLease => ApiError::new(
            ErrorCode::BatchInProgress,
            "this request's claim on the batch lapsed and another request took it over",
        )
        .retry_after(1),
        BatchError::Job(e) => ApiError::job(e),
    }
}

fn interrupted(r: &BatchReceipt) -> ApiError {
    let through = r.applied_through_line;
    match r.interrupted_by.as_deref() {
        Some("unit_disabled") => ApiError::new(
            ErrorCode::Unauthenticated,
            format!(
                "the API key stopped being valid while the batch ran (unit disabled or key \
                 rotated): lines through {through} were applied, nothing after; receipt {}",
                r.id
            ),
        ),
        Some("cancelled") => ApiError::new(
            ErrorCode::RequestTimeout,
            format!("the batch was stopped after line {through}; resend it to resume"),
        ),
        _ => ApiError::new(
            ErrorCode::BatchInterrupted,
            format!(
                "storing a chunk failed: lines through {through} were applied; send the same \
                 body with the same Idempotency-Key to resume after them (receipt {})",
                r.id
            ),
        )
        .retry_after(1),
    }
}

fn read_error(e: &ReadError) -> ApiError {
    if let ReadError::Io(io) = e {
        tracing::info!(error = %io, "batch body could not be read");
    }
    ApiError::from_row_code(e.code(), e.to_string())
}
