//! The console's score models page (`/console/models`, admins): the
//! versions stored with their status, and a model file to validate (errors
//! shown in place with their paths), simulate over everyone's current
//! records (grade counts before and after as charts, the transition matrix,
//! the distribution's shift) and publish — the same use cases as `chengxin
//! model validate|simulate|publish`, publication audited as the staff
//! member. The simulation shows no list of people (第十八条): its movers
//! are not asked for.

use super::form::PageForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chengxin_domain::staff::Right;
use chengxin_domain::Model;
use serde::Deserialize;

use super::page::{Chrome, WebError};
use super::session::Console;
use super::svg;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// A stored model version as the page lists it.
pub struct Version {
    pub version: String,
    pub status: &'static str,
    pub effective_from: String,
    pub hash: String,
}

/// The grade counts and distribution of a simulation, ready to show.
pub struct Shown {
    pub old_version: String,
    pub new_version: String,
    pub as_of: String,
    pub persons: u64,
    /// (grade, old, new, change)
    pub grades: Vec<(String, u64, u64, i64)>,
    pub labels: Vec<String>,
    /// Rows of the transition matrix: (old grade, counts by new grade).
    pub matrix: Vec<(String, Vec<u64>)>,
    /// (statistic, old, new)
    pub stats: Vec<(&'static str, String, String)>,
    pub chart_old: String,
    pub chart_new: String,
}

/// `GET /console/models`.
#[derive(Template, WebTemplate)]
#[template(path = "console/models.html")]
pub struct ModelsPage {
    chrome: Chrome,
    versions: Vec<Version>,
    text: String,
    effective: String,
    done: Option<String>,
    /// Validation errors: (path, message).
    errors: Vec<(String, String)>,
    valid: Option<String>,
    simulation: Option<Shown>,
}

#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn status_label(l: super::lang::Lang, s: &str) -> &'static str {
    match s {
        "active" => l.t("现行", "in force"),
        "staged" => l.t("待生效", "staged"),
        "retired" => l.t("已停用", "retired"),
        _ => l.t("其他", "other"),
    }
}

async fn versions(state: &AppState, c: &Console) -> Result<Vec<Version>, WebError> {
    let l = c.l;
    let list = state
        .blocking(chengxin_jobs::list_models)
        .await
        .and_then(|r| r.map_err(ApiError::job))
        .map_err(|e| c.fail(e))?;
    Ok(list
        .into_iter()
        .map(|m| Version {
            status: status_label(l, m.status.as_str()),
            version: m.version,
            effective_from: m.effective_from.to_string(),
            hash: m.hash.chars().take(12).collect(),
        })
        .collect())
}

fn empty(chrome: Chrome, versions: Vec<Version>) -> ModelsPage {
    ModelsPage {
        chrome,
        versions,
        text: String::new(),
        effective: chengxin_jobs::today().to_string(),
        done: None,
        errors: Vec::new(),
        valid: None,
        simulation: None,
    }
}

/// `GET /console/models`.
pub async fn page(
    State(state): State<AppState>,
    c: Console,
    Query(q): Query<Done>,
) -> Result<ModelsPage, WebError> {
    c.require(Right::ManageModels)?;
    let mut p = empty(c.chrome(), versions(&state, &c).await?);
    p.done = q.done.filter(|d| d.len() <= 40);
    Ok(p)
}

/// The form: the model file's text and what to do with it.
#[derive(Debug, Deserialize)]
pub struct ModelForm {
    text: String,
    action: String,
    effective: Option<String>,
}

/// `POST /console/models`: validate, simulate or publish the text.
pub async fn act(
    State(state): State<AppState>,
    c: Console,
    PageForm(f): PageForm<ModelForm>,
) -> Result<Response, WebError> {
    let member = c.require(Right::ManageModels)?.clone();
    let l = c.l;
    let mut p = empty(c.chrome(), versions(&state, &c).await?);
    p.text = f.text.clone();
    if let Some(e) = &f.effective {
        p.effective = e.clone();
    }
    let catalogue = state
        .blocking(|ctx| ctx.catalogue_now())
        .await
        .and_then(|r| r.map_err(ApiError::job))
        .map_err(|e| c.fail(e))?;
    let model = match Model::parse(&f.text, &catalogue) {
        Ok(m) => m,
        Err(errs) => {
            p.errors = errs.0.into_iter().map(|e| (e.path, e.message)).collect();
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
        }
    };
    match f.action.as_str() {
        "validate" => {
            p.valid = Some(format!(
                "{} {} · {} {} · {} {}",
                l.t("版本", "version"),
                model.version(),
                model.doc.indicators.len(),
                l.t("项指标", "indicators"),
                l.t("哈希", "hash"),
                &model.hash[..12.min(model.hash.len())]
            ));
            Ok(p.into_response())
        }
        "simulate" => {
            let sim = state
                .blocking_unlimited(move |ctx| {
                    chengxin_jobs::simulate(ctx, &model, chengxin_jobs::today(), 0)
                })
                .await
                .and_then(|r| r.map_err(ApiError::job))
                .map_err(|e| c.fail(e))?;
            p.simulation = Some(show(l, &sim));
            Ok(p.into_response())
        }
        "publish" => {
            let Some(effective) = f
                .effective
                .as_deref()
                .and_then(|d| d.parse::<jiff::civil::Date>().ok())
            else {
                p.errors = vec![(
                    "effective".into(),
                    l.t(
                        "请填写有效的生效日期（YYYY-MM-DD）。",
                        "Give a valid effective date (YYYY-MM-DD).",
                    )
                    .into(),
                )];
                return Ok((axum::http::StatusCode::BAD_REQUEST, p).into_response());
            };
            let text = f.text;
            let version = model.version().to_owned();
            let actor = member.actor();
            state
                .blocking_unlimited(move |ctx| {
                    let as_staff = ctx.acting_as(actor);
                    chengxin_jobs::publish(&as_staff, &text, effective, chengxin_jobs::today(), &())
                })
                .await
                .and_then(|r| r.map_err(super::page::operator_error))
                .map_err(|e| c.fail(e))?;
            Ok(Redirect::to(&format!(
                "/console/models?done={}",
                super::urlencode(&version)
            ))
            .into_response())
        }
        _ => Err(c.fail(ApiError::new(
            ErrorCode::BadRequest,
            l.t("未知的操作。", "Unknown action."),
        ))),
    }
}

fn grade_label(l: super::lang::Lang, g: &str) -> String {
    if g == "ineligible" {
        l.t("不参与评分", "not scored").to_owned()
    } else {
        g.to_owned()
    }
}

fn show(l: super::lang::Lang, s: &chengxin_jobs::Simulation) -> Shown {
    let labels: Vec<String> = s.grades.keys().cloned().collect();
    let grades = s
        .grades
        .iter()
        .map(|(g, (o, n))| (grade_label(l, g), *o, *n, *n as i64 - *o as i64))
        .collect::<Vec<_>>();
    let bars = |pick: fn(&(u64, u64)) -> u64| -> Vec<svg::Bar> {
        s.grades
            .iter()
            .map(|(g, v)| svg::Bar {
                label: grade_label(l, g),
                value: pick(v) as f64,
            })
            .collect()
    };
    let matrix = labels
        .iter()
        .map(|r| {
            let row = labels
                .iter()
                .map(|c| {
                    s.transitions
                        .get(r)
                        .and_then(|m| m.get(c))
                        .copied()
                        .unwrap_or(0)
                })
                .collect();
            (grade_label(l, r), row)
        })
        .collect();
    let stat = |name: &'static str, a: String, b: String| (name, a, b);
    Shown {
        old_version: s.old_version.clone(),
        new_version: s.new_version.clone(),
        as_of: s.as_of.to_string(),
        persons: s.persons,
        chart_old: svg::bars(
            &bars(|v| v.0),
            &format!(
                "{} {}",
                l.t("现行模型的等级分布", "Grades under the model in force"),
                s.old_version
            ),
        ),
        chart_new: svg::bars(
            &bars(|v| v.1),
            &format!(
                "{} {}",
                l.t("候选模型的等级分布", "Grades under the candidate"),
                s.new_version
            ),
        ),
        grades,
        labels: labels.iter().map(|g| grade_label(l, g)).collect(),
        matrix,
        stats: vec![
            stat(
                l.t("参评人数", "scored"),
                s.old.eligible.to_string(),
                s.new.eligible.to_string(),
            ),
            stat(
                l.t("平均分", "mean"),
                format!("{:.1}", s.old.mean),
                format!("{:.1}", s.new.mean),
            ),
            stat(
                l.t("中位数", "median"),
                s.old.median.to_string(),
                s.new.median.to_string(),
            ),
            stat(
                l.t("第10百分位", "10th percentile"),
                s.old.p10.to_string(),
                s.new.p10.to_string(),
            ),
            stat(
                l.t("第90百分位", "90th percentile"),
                s.old.p90.to_string(),
                s.new.p90.to_string(),
            ),
        ],
    }
}
