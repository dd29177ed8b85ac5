//! `/console/lookup`: ONE person looked up by ID number (第十八条: the
//! console never lists or ranks residents), for a purpose the staff member
//! must state (e.g. a case number). The answer — score, grade, breakdown,
//! records and open cases — comes from `chengxin_jobs::console::lookup`,
//! which records the read in the audit log with the staff member and the
//! purpose before it answers (found or not). A POST, so the ID number is
//! never in an address or a server log.

use super::form::PageForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chengxin_domain::IdNumber;
use chengxin_jobs::console::{self, Lookup, LookupError, LOOKUP_RIGHT, MAX_PURPOSE_CHARS};
use serde::Deserialize;

use super::console_cases as cases;
use super::page::{Chrome, WebError};
use super::portal_score::ScoreView;
use super::session::Console;
use crate::error::{ApiError, ErrorCode};
use crate::middleware::RequestId;
use crate::state::AppState;

/// One record as shown.
pub struct RecordRow {
    pub id: i64,
    pub item: String,
    pub date: String,
    pub state: String,
    pub counts: bool,
}

/// What was found.
pub struct Found {
    pub x: Lookup,
    pub s: Option<ScoreView>,
    pub records: Vec<RecordRow>,
}

/// `GET|POST /console/lookup`.
#[derive(Template, WebTemplate)]
#[template(path = "console/lookup.html")]
pub struct LookupPage {
    chrome: Chrome,
    id_number: String,
    purpose: String,
    max_purpose: usize,
    /// The refusal: code and message.
    error: Option<(&'static str, String)>,
    found: Option<Found>,
}

impl LookupPage {
    fn label(&self, name: &str) -> String {
        cases::label(self.chrome.l, name)
    }

    fn empty(c: &Console) -> LookupPage {
        LookupPage {
            chrome: c.chrome(),
            id_number: String::new(),
            purpose: String::new(),
            max_purpose: MAX_PURPOSE_CHARS,
            error: None,
            found: None,
        }
    }
}

/// `GET /console/lookup`: the form.
pub async fn page(c: Console) -> Result<LookupPage, WebError> {
    c.require(LOOKUP_RIGHT)?;
    Ok(LookupPage::empty(&c))
}

/// The form.
#[derive(Debug, Deserialize)]
pub struct LookupForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    purpose: String,
}

fn problem(e: LookupError) -> ApiError {
    match e {
        LookupError::Forbidden(m) => ApiError::new(ErrorCode::RoleForbidden, m),
        LookupError::Purpose(code, m) => ApiError::from_row_code(code, m),
        LookupError::Job(e) => ApiError::job(e),
    }
}

/// `POST /console/lookup`: the look-up, audited with its purpose.
pub async fn lookup(
    State(state): State<AppState>,
    c: Console,
    RequestId(request_id): RequestId,
    PageForm(f): PageForm<LookupForm>,
) -> Result<Response, WebError> {
    c.require(LOOKUP_RIGHT)?;
    let l = c.l;
    let mut page = LookupPage::empty(&c);
    page.id_number = f.id_number.trim().to_owned();
    page.purpose = f.purpose.clone();
    let refuse = |mut page: LookupPage, e: ApiError| {
        let status = e.code().status();
        page.error = Some((e.code().as_str(), e.detail().to_owned()));
        (status, page).into_response()
    };
    let id = match IdNumber::parse(f.id_number.trim()) {
        Ok(id) => id,
        Err(e) => {
            let m = match e {
                chengxin_domain::id::IdError::CheckDigit => l.t(
                    "身份证号的校验位不正确，请核对最后一位。",
                    "The ID number's check character is wrong; check its last character.",
                ),
                _ => l.t(
                    "身份证号格式不正确（18 位，含出生日期与地区代码）。",
                    "Not a valid ID number (18 characters with a birth date and a region code).",
                ),
            };
            return Ok(refuse(page, ApiError::from_row_code(e.code(), m)));
        }
    };
    let member = c.staff.member.clone();
    let purpose = f.purpose.clone();
    let outcome = state
        .reading(move |ctx| {
            console::lookup(
                ctx,
                &member,
                &id,
                &purpose,
                Some(&request_id),
                chengxin_jobs::today(),
            )
            .map(|x| (x, ctx.catalogue()))
        })
        .await
        .map_err(|e| c.fail(e))?;
    let (x, catalogue) = match outcome {
        Ok(found) => found,
        Err(e @ LookupError::Purpose(..)) => return Ok(refuse(page, problem(e))),
        Err(e) => return Err(c.fail(problem(e))),
    };
    let s = match &x.score {
        Some(v) => Some(
            serde_json::from_value::<ScoreView>(v.clone())
                .map_err(|e| c.fail(ApiError::internal(e)))?,
        ),
        None => None,
    };
    let records = x
        .records
        .iter()
        .map(|r| RecordRow {
            id: r.id,
            item: cases::item_name(l, &catalogue, &r.item),
            date: r.date.to_string(),
            state: cases::label(l, &cases::name_of(&r.state)),
            counts: r.counts,
        })
        .collect();
    page.found = Some(Found { x, s, records });
    Ok((StatusCode::OK, page).into_response())
}
