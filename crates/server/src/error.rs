//! Every error the HTTP API returns: one table of stable codes, each with its
//! status and title, rendered as RFC 9457 `application/problem+json`.
//!
//! The table below is the only place a code is defined; `ERRORS.md` is
//! generated from it (a test keeps the two equal). Row-validation codes from
//! `chengxin-ingest` and `chengxin-domain` appear here under the same names so
//! a single pushed record and a batch row fail with the same code.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Prefix of a problem's `type` URI; the code follows it.
pub const TYPE_PREFIX: &str = "urn:chengxin:error:";

macro_rules! error_table {
    ($( $variant:ident = $code:literal, $status:ident, $title:literal, $doc:literal; )*) => {
        /// A stable error code. Each maps to exactly one HTTP status and title.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(
                #[doc = $doc]
                $variant,
            )*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code as it appears in problem bodies.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The HTTP status this code is always returned with.
            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }

            /// A short, fixed, human-readable summary.
            pub fn title(self) -> &'static str {
                match self { $(ErrorCode::$variant => $title,)* }
            }

            /// When the code is returned, for `ERRORS.md`.
            pub fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => $doc,)* }
            }

            /// The code with this name, if it is in the table.
            pub fn from_code(code: &str) -> Option<ErrorCode> {
                match code { $($code => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

error_table! {
    BadRequest = "bad_request", BAD_REQUEST, "Bad request",
        "The request is malformed in a way no more specific code covers (e.g. an undecodable path).";
    UnreadableInput = "unreadable_input", BAD_REQUEST, "Unreadable input",
        "The request body could not be read (e.g. the client broke off the upload).";
    InvalidIdempotencyKey = "invalid_idempotency_key", BAD_REQUEST, "Invalid Idempotency-Key",
        "The `Idempotency-Key` header is empty, longer than 255 characters or not printable ASCII.";
    IdempotencyKeyRequired = "idempotency_key_required", BAD_REQUEST, "Idempotency-Key required",
        "`POST /api/v1/batches` needs an `Idempotency-Key` header: it is what makes a retried batch apply each row once.";
    Unauthenticated = "unauthenticated", UNAUTHORIZED, "Unauthenticated",
        "No `Authorization: Bearer KEY` header, or the key is unknown, rotated away or belongs to a disabled unit; also when that happens while a batch runs (it stops before its next chunk; the detail says through which line it was applied). Sent with `WWW-Authenticate: Bearer`.";
    TokenExpired = "token_expired", UNAUTHORIZED, "Token expired",
        "The resident's ID token is outside its validity period: `exp` has passed or `nbf` is still in the future (60 s leeway). Sign in again.";
    TokenBadSignature = "token_bad_signature", UNAUTHORIZED, "Token signature invalid",
        "The ID token's signature does not verify with the key its `kid` names, or its `alg` is not EdDSA, ES256 or RS256 (`none` and HMAC algorithms are never accepted).";
    TokenWrongAudience = "token_wrong_audience", UNAUTHORIZED, "Token for another audience",
        "The ID token's `aud` does not name this service (the configured `--oidc-audience`), or it has none.";
    TokenWrongIssuer = "token_wrong_issuer", UNAUTHORIZED, "Token from another issuer",
        "The ID token's `iss` is not the configured identity provider (`--oidc-issuer`), or it has none.";
    TokenUnknownKey = "token_unknown_key", UNAUTHORIZED, "Token signed with an unknown key",
        "The ID token's `kid` is missing or names no key in the identity provider's key set, even after fetching the set again (at most once per 30 s).";
    TokenMalformed = "token_malformed", UNAUTHORIZED, "Token malformed",
        "The Bearer credential is not a compact JWS ID token with JSON header and claims, or its ID-number claim is missing or not a valid GB 11643 number.";
    InvalidCredentials = "invalid_credentials", UNAUTHORIZED, "Invalid credentials",
        "A staff sign-in (`POST /api/v1/staff/sessions`) named an unknown account, gave the wrong password, or the account is disabled; the answer does not say which.";
    TooManySignIns = "too_many_sign_ins", TOO_MANY_REQUESTS, "Too many failed sign-ins",
        "Too many failed staff sign-ins for this account (5) or from this address (20) in the last 15 minutes; try again after the seconds in `Retry-After`. Counted per server process.";
    RoleForbidden = "role_forbidden", FORBIDDEN, "Role forbidden",
        "The signed-in staff member's role (admin, reviewer, auditor) does not have the right this operation needs.";
    CrossSiteRequest = "cross_site_request", FORBIDDEN, "Cross-site request",
        "A web form was posted from another site (its `Origin` or `Referer` is not this site's), or without either header; the pages' forms only accept posts from their own pages.";
    ItemNotPermitted = "item_not_permitted", FORBIDDEN, "Item not permitted",
        "The record is for a catalogue item the unit is not responsible for.";
    NotFound = "not_found", NOT_FOUND, "Not found",
        "No such endpoint.";
    RecordNotFound = "record_not_found", NOT_FOUND, "Record not found",
        "The unit has no record with this `source_id`; or a resident named a `record_id` that is not one of their own records (another person's record is not revealed).";
    RepairNotFound = "repair_not_found", NOT_FOUND, "Repair application not found",
        "No credit-repair application with this id.";
    BatchNotFound = "batch_not_found", NOT_FOUND, "Batch not found",
        "No batch with this id was submitted by the calling unit.";
    RecordNotWithdrawable = "record_not_withdrawable", CONFLICT, "Record cannot be withdrawn",
        "The record's state does not allow a withdrawal: it was repaired (信用修复) or is a rejected self-report.";
    BatchInProgress = "batch_in_progress", CONFLICT, "Batch in progress",
        "Another request is still processing a batch under this `Idempotency-Key`; send it again after the seconds in `Retry-After`.";
    TooManyBatches = "too_many_batches", TOO_MANY_REQUESTS, "Too many batches",
        "The unit already has the most batches running at once that it may; send this one after the seconds in `Retry-After`.";
    TooManyRequests = "too_many_requests", TOO_MANY_REQUESTS, "Too many requests",
        "This API key already has the most requests in flight that one key may; retry after the seconds in `Retry-After`.";
    SelfReportNotFound = "self_report_not_found", NOT_FOUND, "Self-report not found",
        "No self-report with this id that the caller may see: a unit sees only reports of items it is responsible for.";
    EvidenceNotFound = "evidence_not_found", NOT_FOUND, "Evidence not found",
        "The self-report or objection has no evidence file with this SHA-256.";
    CommitmentAlreadyActive = "commitment_already_active", CONFLICT, "Commitment already active",
        "The resident already has an active commitment to this template; it can be signed again once that one is fulfilled, breached or expired.";
    TemplateRetired = "template_retired", CONFLICT, "Commitment template retired",
        "The agency retired this commitment template: it takes no new signatures (commitments already signed stay valid to the end of their term).";
    SelfReportAlreadyDecided = "self_report_already_decided", CONFLICT, "Self-report already decided",
        "The self-report was already verified or rejected; a decision is final.";
    ObjectionNotFound = "objection_not_found", NOT_FOUND, "Objection not found",
        "No objection with this id that the caller may see: a resident sees only their own, a unit only those routed to it.";
    ObjectionRecordNotFound = "objection_record_not_found", NOT_FOUND, "Record not found for objection",
        "The resident has no record with this `record_id` (another person's record is not revealed), or, for `{\"about\":\"score\"}`, the platform holds nothing about them yet.";
    ObjectionAlreadyOpen = "objection_already_open", CONFLICT, "Objection already open",
        "An objection to the same record (or to the score) is still open; a new one may be filed once it is decided.";
    RecordNotDisputable = "record_not_disputable", CONFLICT, "Record cannot be objected to",
        "The record no longer counts (withdrawn, corrected, repaired, pending or rejected), so there is nothing to object to; or the agency cannot withdraw it (repaired).";
    ObjectionWrongState = "objection_wrong_state", CONFLICT, "Objection in the wrong state",
        "The objection's state does not allow this step: it must be `submitted` to be accepted, `awaiting_unit` for the unit's reply, and `accepted` or `awaiting_unit` to be decided (a decision is final).";
    ObjectionNotCorrected = "objection_not_corrected", CONFLICT, "Record not corrected",
        "The outcome `corrected` was given, but the record's unit has neither pushed a correction nor withdrawn it; send `\"withdraw\": true` for the agency to withdraw it.";
    RepairAlreadyPending = "repair_already_pending", CONFLICT, "Repair already pending",
        "A credit-repair application for this record is already pending; wait for its decision.";
    RepairAlreadyDecided = "repair_already_decided", CONFLICT, "Repair already decided",
        "The credit-repair application was already approved or rejected; a decision is final.";
    RepairRecordChanged = "repair_record_changed", CONFLICT, "Record no longer repairable",
        "The record of a pending credit-repair application no longer counts (its unit withdrew it since); the application can only be rejected.";
    RepairTooEarly = "repair_too_early", UNPROCESSABLE_ENTITY, "Too early for credit repair",
        "The record's minimum publicity period has not passed: a general penalty is repairable 3 months after its decision, a serious one or a serious-dishonesty listing 1 year after (NDRC Order No. 36 of 2025); `GET /api/v1/me/repairs/options` gives the date.";
    RepairNeedsCommitment = "repair_needs_commitment", UNPROCESSABLE_ENTITY, "Credit commitment needed",
        "Credit repair needs an active credit commitment (信用承诺) of the resident's: sign one (`POST /api/v1/me/commitments`) first.";
    RecordNotRepairable = "record_not_repairable", UNPROCESSABLE_ENTITY, "Record not repairable",
        "Credit repair applies only to P01 penalties of level general or serious and S01 listings that still count; not to a minor penalty (never published), any other item, a listing already removed, or a record already repaired, withdrawn or corrected.";
    AuthorisationExpired = "authorisation_expired", FORBIDDEN, "Authorisation expired",
        "The authorisation is past its `valid_until` day, or its one-time code was not redeemed within 10 minutes of the grant.";
    AuthorisationRevoked = "authorisation_revoked", FORBIDDEN, "Authorisation revoked",
        "The resident revoked the authorisation; it holds from the party's very next request.";
    AuthorisationExhausted = "authorisation_exhausted", FORBIDDEN, "Authorisation exhausted",
        "Every use the authorisation's `max_uses` allowed is spent.";
    ScopeExceeded = "scope_exceeded", FORBIDDEN, "Scope exceeded",
        "The answer asked for is beyond the authorisation's scope: a `grade` grant answers only the grade, a `threshold:N` grant only whether the score is at least that N (a `score` grant covers all three).";
    AuthorisationNotFound = "authorisation_not_found", NOT_FOUND, "Authorisation not found",
        "No such authorisation for the caller: unknown, another party's (or, for a resident, another resident's), not yet redeemed, or an unknown or ill-formed one-time code.";
    CodeAlreadyRedeemed = "code_already_redeemed", CONFLICT, "Code already redeemed",
        "The one-time code was already redeemed; a code works once.";
    ThresholdGrantExists = "threshold_grant_exists", CONFLICT, "Threshold grant exists",
        "The resident already has a live (pending or active) `threshold:N` authorisation of this party; one at a time, so that no party can narrow down a score by asking several thresholds. Revoke it first.";
    TooManyGrants = "too_many_grants", TOO_MANY_REQUESTS, "Too many grants",
        "The resident made 5 authorisations of this party in the last 24 hours; the refusal is in their access log.";
    UnknownParty = "unknown_party", UNPROCESSABLE_ENTITY, "Unknown party",
        "`party` is not the code of a registered, enabled party.";
    PurposeNotDeclared = "purpose_not_declared", UNPROCESSABLE_ENTITY, "Purpose not declared",
        "`purpose` is not one of the purposes the party declared when it was registered.";
    InvalidScope = "invalid_scope", UNPROCESSABLE_ENTITY, "Invalid scope",
        "`scope` is not `score`, `grade` or `threshold:N` with N a whole number from 0 to 1000 (no sign, no leading zero).";
    InvalidValidity = "invalid_validity", UNPROCESSABLE_ENTITY, "Invalid validity",
        "`valid_until` is before today or more than 366 days away, or `max_uses` is not from 1 to 10000.";
    ScenarioNotFound = "scenario_not_found", NOT_FOUND, "Scenario not found",
        "No 信易+ scenario has this code (for a provider's check: none offered today; retired and expired ones are not).";
    ScenarioExists = "scenario_exists", CONFLICT, "Scenario exists",
        "A 信易+ scenario with this code is already registered (retired ones keep their code).";
    ScenarioRetired = "scenario_retired", CONFLICT, "Scenario already retired",
        "The 信易+ scenario was already retired.";
    ScenarioNotIncentive = "scenario_not_incentive", UNPROCESSABLE_ENTITY, "Scenario is not an incentive",
        "The scenario would not be a benefit (第十八条: incentives only): a benefit number at or below zero (a negative discount is a surcharge), a kind that is not a benefit, or a description revealing a penalty (surcharge/加价/附加费, deposit increase/提高押金, denial/拒绝/不予/限制…). The detail lists every reason with its path.";
    InvalidScenario = "invalid_scenario", UNPROCESSABLE_ENTITY, "Invalid scenario",
        "The scenario is a benefit but otherwise invalid: unknown sector, a grade not in the model in force or a score outside its range, both or neither of `min_grade` and `min_score`, `valid_until` before `valid_from` or already past, a blank or overlong text. The detail lists every reason with its path.";
    MalformedMultipart = "malformed_multipart", BAD_REQUEST, "Malformed multipart body",
        "The `multipart/form-data` body cannot be parsed (bad boundary, truncated part, a part without a name).";
    ItemNotSelfReportable = "item_not_self_reportable", UNPROCESSABLE_ENTITY, "Item not self-reportable",
        "Residents may self-report only the items the catalogue marks so: O01 honours, O02 donations, O03 volunteer service (not O04 blood donation, nor any unit's item).";
    EvidenceRequired = "evidence_required", UNPROCESSABLE_ENTITY, "Evidence required",
        "A self-report needs at least one `evidence` file.";
    TooManyEvidenceFiles = "too_many_evidence_files", UNPROCESSABLE_ENTITY, "Too many evidence files",
        "A self-report carries at most 5 `evidence` files.";
    EvidenceTooLarge = "evidence_too_large", PAYLOAD_TOO_LARGE, "Evidence file too large",
        "An `evidence` file is over 10 MiB.";
    EvidenceTypeNotAllowed = "evidence_type_not_allowed", UNPROCESSABLE_ENTITY, "Evidence type not allowed",
        "An `evidence` file is not a PDF, JPEG or PNG, judged from its content (its name and declared type play no part).";
    NoScoreToCertify = "no_score_to_certify", CONFLICT, "No score to certify",
        "A score certificate was asked for a person who has no score under the model in force (unknown to the platform, or not eligible).";
    CertificateSigningUnavailable = "certificate_signing_unavailable", SERVICE_UNAVAILABLE, "Certificate signing unavailable",
        "The service cannot sign certificates now: no signing key yet (`chengxin keys rotate`), or its key file (`--cert-keys DIR`) is missing or not the key recorded for its id. The detail is logged, not returned.";
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "Method not allowed",
        "The endpoint exists but not with this method; the `Allow` header lists the methods it has.";
    RequestTimeout = "request_timeout", REQUEST_TIMEOUT, "Request timeout",
        "The request was not completed within the server's time limit.";
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE, "Payload too large",
        "The body exceeds the limit: 100 MB for `/api/v1/batches`, 51 MiB for `/api/v1/me/self-reports` and `/api/v1/me/objections`, 64 KiB elsewhere.";
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "Unsupported media type",
        "The `Content-Type` is not one the endpoint accepts (`application/json` for records; `application/x-ndjson`, `application/jsonl` or `text/csv` for batches; `multipart/form-data` for self-reports).";
    MalformedJson = "malformed_json", UNPROCESSABLE_ENTITY, "Malformed JSON",
        "The body (or a batch line) is not a JSON object.";
    InvalidUtf8 = "invalid_utf8", UNPROCESSABLE_ENTITY, "Invalid UTF-8",
        "The body (or a batch line or cell) is not valid UTF-8.";
    MissingField = "missing_field", UNPROCESSABLE_ENTITY, "Missing field",
        "A required field is absent.";
    InvalidField = "invalid_field", UNPROCESSABLE_ENTITY, "Invalid field",
        "A field has the wrong type or shape.";
    UnknownField = "unknown_field", UNPROCESSABLE_ENTITY, "Unknown field",
        "A field or CSV column that the format or the item does not define.";
    UnknownItem = "unknown_item", UNPROCESSABLE_ENTITY, "Unknown item",
        "`item` is not a code in the information catalogue.";
    InvalidIdNumber = "invalid_id_number", UNPROCESSABLE_ENTITY, "Invalid ID number",
        "`id_number` is not 18 characters, has a non-digit, does not start with a GB/T 2260 province code, or encodes an impossible or future birth date. The message never repeats its digits.";
    IdCheckDigit = "id_check_digit", UNPROCESSABLE_ENTITY, "Wrong ID check character",
        "The last character of `id_number` does not match its ISO 7064 MOD 11-2 check.";
    InvalidDate = "invalid_date", UNPROCESSABLE_ENTITY, "Invalid date",
        "A date field is not an existing YYYY-MM-DD date.";
    DateOutOfRange = "date_out_of_range", UNPROCESSABLE_ENTITY, "Date out of range",
        "A date is before 1900-01-01 or after 2199-12-31, or the record's date (its item's first date field) is after today (after the `--as-of` date for an import).";
    InconsistentFields = "inconsistent_fields", UNPROCESSABLE_ENTITY, "Inconsistent fields",
        "Two fields contradict each other: a date before the one it must follow (`removed_on` before `listed_on`, `valid_until` before `valid_from`).";
    InvalidCharacter = "invalid_character", UNPROCESSABLE_ENTITY, "Invalid character",
        "A text (`source_id`, `unit`, `name`, a field, a withdrawal's `reason`) contains a control character (U+0000 among them), a bidirectional control or a zero-width character.";
    InvalidEnum = "invalid_enum", UNPROCESSABLE_ENTITY, "Invalid value",
        "A field's value is not one of the values the catalogue allows.";
    OutOfRange = "out_of_range", UNPROCESSABLE_ENTITY, "Out of range",
        "A number or length is outside the range the catalogue allows.";
    UnknownTemplate = "unknown_template", UNPROCESSABLE_ENTITY, "Unknown commitment template",
        "A C01 record (or a resident signing) names a commitment template that does not exist.";
    UnitMismatch = "unit_mismatch", UNPROCESSABLE_ENTITY, "Unit mismatch",
        "The record names a `unit` other than the one the API key belongs to.";
    LineTooLong = "line_too_long", UNPROCESSABLE_ENTITY, "Line too long",
        "A batch line or CSV record is longer than 64 KiB (reported per row in batch receipts).";
    RecordTooLong = "record_too_long", UNPROCESSABLE_ENTITY, "CSV record too long",
        "A CSV record runs on past 64 KiB without ending (an unclosed quote?): it is rejected and the rest of the body is not read as records (reported per row in batch receipts).";
    MalformedCsv = "malformed_csv", UNPROCESSABLE_ENTITY, "Malformed CSV",
        "The CSV header or a record cannot be parsed, or a row has the wrong number of cells.";
    MissingColumn = "missing_column", UNPROCESSABLE_ENTITY, "Missing column",
        "The CSV header lacks a required column (`source_id`, `item`, `id_number`); nothing was read.";
    InvalidRecord = "invalid_record", UNPROCESSABLE_ENTITY, "Invalid record",
        "The record is invalid for a reason without a more specific code.";
    IdempotencyKeyReused = "idempotency_key_reused", UNPROCESSABLE_ENTITY, "Idempotency-Key reused",
        "The `Idempotency-Key` was already used by this unit with a different body.";
    CatalogueChanged = "catalogue_changed", CONFLICT, "Catalogue changed",
        "The agency published a new catalogue version while the records were being checked against the one before; nothing was stored. Send them again (after the seconds in `Retry-After`): they are checked against the version now in force.";
    Internal = "internal", INTERNAL_SERVER_ERROR, "Internal error",
        "An unexpected failure. Details are logged under the `request_id`, never returned.";
    ServiceUnavailable = "service_unavailable", SERVICE_UNAVAILABLE, "Service unavailable",
        "The server cannot reach its database.";
    ServerBusy = "server_busy", SERVICE_UNAVAILABLE, "Server busy",
        "The server has the most requests in flight that it takes; retry after the seconds in `Retry-After`.";
    BatchInterrupted = "batch_interrupted", SERVICE_UNAVAILABLE, "Batch interrupted",
        "Storing a chunk of the batch failed; the receipt (`GET /api/v1/batches/{id}`) says which lines were applied. Send the same body with the same `Idempotency-Key` to resume after them.";
}

impl ErrorCode {
    /// The problem `type` URI for this code.
    pub fn type_uri(self) -> String {
        format!("{TYPE_PREFIX}{}", self.as_str())
    }

    /// The code a response with this status gets when nothing more specific
    /// produced it (e.g. a layer's own rejection).
    pub fn for_status(status: StatusCode) -> ErrorCode {
        match status {
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::REQUEST_TIMEOUT => ErrorCode::RequestTimeout,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::ServiceUnavailable,
            s if s.is_server_error() => ErrorCode::Internal,
            _ => ErrorCode::BadRequest,
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

// Written by hand because the derive cannot see names produced by the table macro.
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "A stable error code; each always comes with the same status (see ERRORS.md).",
            ))
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

impl ToSchema for ErrorCode {}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An RFC 9457 problem details body.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:chengxin:error:id_check_digit",
    "title": "Wrong ID check character",
    "status": 422,
    "detail": "the check character of the ID number is wrong",
    "code": "id_check_digit",
    "request_id": "4f1c2a8e-8d7b-4a51-9f0e-2b5d9c3e7a10"
}))]
pub struct Problem {
    /// `urn:chengxin:error:` followed by the code.
    #[serde(rename = "type")]
    pub type_: String,
    /// Fixed summary of the code.
    pub title: String,
    /// The HTTP status, repeated.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// The stable error code.
    pub code: ErrorCode,
    /// The request id (also in the `x-request-id` response header).
    pub request_id: String,
}

impl Problem {
    /// A problem for `code` with a request-specific `detail`.
    pub fn new(
        code: ErrorCode,
        detail: impl Into<String>,
        request_id: impl Into<String>,
    ) -> Problem {
        Problem {
            type_: code.type_uri(),
            title: code.title().to_owned(),
            status: code.status().as_u16(),
            detail: detail.into(),
            code,
            request_id: request_id.into(),
        }
    }

    /// The complete HTTP response for this problem.
    pub fn into_response_with(self, mut headers: axum::http::HeaderMap) -> Response {
        let status = self.code.status();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        headers.remove(header::CONTENT_LENGTH);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.code == ErrorCode::Unauthenticated {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"chengxin\""),
            );
        } else if status == StatusCode::UNAUTHORIZED {
            // A token was sent and refused (RFC 6750 §3.1).
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"chengxin\", error=\"invalid_token\""),
            );
        }
        let mut res = Response::new(axum::body::Body::from(body));
        *res.status_mut() = status;
        *res.headers_mut() = headers;
        res
    }
}

/// A problem not yet rendered: the middleware adds the request id and writes
/// the body, so handlers and extractors need not know the id.
#[derive(Debug, Clone)]
pub struct PendingProblem {
    pub code: ErrorCode,
    pub detail: String,
}

/// The error type of every handler and extractor.
#[derive(Debug, Clone)]
pub struct ApiError {
    code: ErrorCode,
    detail: String,
    /// Seconds for a `Retry-After` header.
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a stable code and a detail safe to show the caller.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// The same error, telling the client when to try again.
    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }

    /// A use case's failure: a catalogue published mid-request is 409
    /// `catalogue_changed` (send again), anything else [`ApiError::internal`].
    pub fn job(e: chengxin_jobs::JobError) -> ApiError {
        match e {
            e @ chengxin_jobs::JobError::CatalogueChanged { .. } => {
                ApiError::new(ErrorCode::CatalogueChanged, e.to_string()).retry_after(1)
            }
            e => ApiError::internal(e),
        }
    }

    /// An unexpected failure: `cause` is logged (in the request's span, so with
    /// its id) and replaced by a generic detail.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            ErrorCode::Internal,
            "an unexpected error occurred; quote the request_id when reporting it",
        )
    }

    /// A rejected row or record: its reason code becomes the problem code.
    pub fn from_row_code(code: &str, message: impl Into<String>) -> ApiError {
        let known = ErrorCode::from_code(code).unwrap_or_else(|| {
            tracing::warn!(code, "a validation code is missing from the error table");
            ErrorCode::InvalidRecord
        });
        ApiError::new(known, message)
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The detail.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = self.code.status().into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(s) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res.extensions_mut().insert(PendingProblem {
            code: self.code,
            detail: self.detail,
        });
        res
    }
}

/// The error table as Markdown; `crates/server/ERRORS.md` holds exactly this.
pub fn errors_markdown() -> String {
    let mut out = String::from(
        "# HTTP API error codes\n\n\
         <!-- Generated from `ErrorCode` in `src/error.rs`; a test fails when they differ.\n     \
         Regenerate with `UPDATE_ERRORS_MD=1 cargo test -p chengxin-server --test openapi`. -->\n\n\
         Every error is an RFC 9457 `application/problem+json` body:\n\n\
         ```json\n\
         {\"type\": \"urn:chengxin:error:id_check_digit\", \"title\": \"Wrong ID check character\", \
         \"status\": 422, \"detail\": \"the check character of the ID number is wrong\", \
         \"code\": \"id_check_digit\", \"request_id\": \"4f1c2a8e-8d7b-4a51-9f0e-2b5d9c3e7a10\"}\n\
         ```\n\n\
         `code` is stable and always comes with the status below; `type` is \
         `urn:chengxin:error:` followed by the code; `detail` is specific to the \
         request; `request_id` equals the `x-request-id` response header. In batch \
         receipts, rejected rows carry the same validation codes.\n\n\
         | code | status | title | when |\n|---|---|---|---|\n",
    );
    for c in ErrorCode::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            c.as_str(),
            c.status().as_u16(),
            c.title(),
            c.description().replace('|', "\\|"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    #[test]
    fn a_catalogue_published_mid_request_is_a_conflict_to_retry_not_a_500() {
        let e = ApiError::job(chengxin_jobs::JobError::CatalogueChanged {
            validated: 1,
            in_force: 2,
        });
        let res = e.into_response();
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert_eq!(res.headers()["retry-after"], "1");
        let other = ApiError::job(chengxin_jobs::JobError::Invalid("x".into())).into_response();
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn codes_serialize_as_their_names_and_round_trip() {
        for c in ErrorCode::ALL {
            let json = serde_json::to_value(c).unwrap();
            assert_eq!(json, serde_json::json!(c.as_str()));
            assert_eq!(ErrorCode::from_code(c.as_str()), Some(*c));
            assert!(c.status().is_client_error() || c.status().is_server_error());
        }
    }

    #[test]
    fn codes_are_unique() {
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len());
    }

    #[test]
    fn row_codes_from_validation_are_all_in_the_table() {
        // The codes `chengxin-ingest` and `chengxin-domain` emit for a row.
        for code in [
            "malformed_json",
            "invalid_field",
            "missing_field",
            "unknown_item",
            "invalid_id_number",
            "id_check_digit",
            "invalid_date",
            "date_out_of_range",
            "inconsistent_fields",
            "invalid_character",
            "invalid_enum",
            "out_of_range",
            "unknown_field",
            "unknown_template",
            "invalid_utf8",
            "unit_mismatch",
            "item_not_permitted",
            "line_too_long",
            "record_too_long",
            "malformed_csv",
            "missing_column",
            "unreadable_input",
        ] {
            assert!(ErrorCode::from_code(code).is_some(), "{code}");
        }
        assert_eq!(
            ErrorCode::from_code("item_not_permitted").unwrap().status(),
            StatusCode::FORBIDDEN
        );
    }
}
