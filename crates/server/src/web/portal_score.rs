//! The portal's start page (`/portal`): the resident's score as a dial with
//! grade and model version, the breakdown by indicator with the records
//! behind each, the top four factors, and what-if — the same use case and
//! the same audit entry as `GET /api/v1/me/score`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use chengxin_jobs::own;
use serde::Deserialize;

use super::page::{Chrome, WebError};
use super::session::Portal;
use super::svg;
use crate::middleware::RequestId;
use crate::state::AppState;

/// One indicator of the breakdown.
#[derive(Debug, Deserialize)]
pub struct Contribution {
    pub indicator: String,
    pub name_zh: String,
    pub name_en: String,
    pub points: i64,
    pub best: i64,
    #[serde(default)]
    pub records: Vec<i64>,
}

/// A factor that held the score back.
#[derive(Debug, Deserialize)]
pub struct Factor {
    pub zh: String,
    pub en: String,
    pub gap: i64,
}

/// What-if, as the API answers it.
#[derive(Debug, Deserialize)]
pub struct WhatIf {
    pub record_id: i64,
    pub action: String,
    pub score_after: Option<i64>,
    pub grade_after: Option<String>,
    pub repairable_from: Option<String>,
    pub needs_commitment: Option<bool>,
    pub fulfilled_on: Option<String>,
}

/// The score answer's fields the page shows.
#[derive(Debug, Deserialize)]
pub struct ScoreView {
    pub eligible: bool,
    #[serde(default)]
    pub reasons: Vec<serde_json::Value>,
    pub score: Option<i64>,
    pub grade: Option<String>,
    pub grade_zh: Option<String>,
    pub grade_en: Option<String>,
    pub model_version: Option<String>,
    pub as_of: String,
    #[serde(default)]
    pub contributions: Vec<Contribution>,
    #[serde(default)]
    pub factors: Vec<Factor>,
    #[serde(default)]
    pub what_if: Vec<WhatIf>,
}

/// `GET /portal`.
#[derive(Template, WebTemplate)]
#[template(path = "portal/home.html")]
pub struct ScorePage {
    chrome: Chrome,
    s: ScoreView,
    dial: String,
}

impl ScorePage {
    fn reason_text(&self, r: &serde_json::Value) -> String {
        let key = if self.chrome.l.is_zh() { "zh" } else { "en" };
        r.get(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| r.to_string())
    }
}

/// `GET /portal`: the score page.
pub async fn page(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
) -> Result<ScorePage, WebError> {
    let id = p.resident.id_number;
    let own = state
        .reading_short(move |ctx| {
            own::score_audited(ctx, &id, chengxin_jobs::today(), Some(&request_id))
        })
        .await
        .and_then(|r| r.map_err(crate::error::ApiError::job))
        .map_err(|e| p.fail(e))?
        .durable()
        .await
        .map_err(|e| p.fail(crate::error::ApiError::job(e)))?;
    let s: ScoreView = serde_json::from_slice(own.body())
        .map_err(|e| p.fail(crate::error::ApiError::internal(e)))?;
    let l = p.l;
    let grade = if l.is_zh() {
        s.grade_zh.clone()
    } else {
        s.grade_en.clone()
    };
    let caption = match (&s.grade, grade) {
        (Some(g), Some(name)) => format!("{g} {name}"),
        (Some(g), None) => g.clone(),
        _ => l.t("暂无等级", "No grade").to_owned(),
    };
    let dial = match s.score {
        Some(v) => svg::dial(
            v,
            1000,
            &caption,
            &format!("{} {v} / 1000, {caption}", l.t("诚信分", "Integrity score")),
        ),
        None => String::new(),
    };
    Ok(ScorePage {
        chrome: p.chrome(),
        s,
        dial,
    })
}
