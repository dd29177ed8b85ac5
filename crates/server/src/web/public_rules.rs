//! The public rules pages (no sign-in): `/rules/catalogue` (the catalogue
//! version in force, the same read as `GET /api/v1/catalogue`),
//! `/rules/model` (the score model in force: indicators with their best
//! points and bands, grades with their ranges, version and hash) and
//! `/rules/model/diff?from=&to=` (what changed between two published model
//! versions, `chengxin_domain::model::diff`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chengxin_domain::catalogue::{Category, FieldSpec, FieldType, Item};
use chengxin_domain::model::diff::{Change, ModelDiff, PartChange};
use chengxin_domain::model::{Indicator, Rule};
use chengxin_jobs::rules::{self, ModelInForce};
use serde::Deserialize;
use serde_json::Value;

use super::lang::Lang;
use super::page::{not_found, Chrome, WebError};
use crate::error::ApiError;
use crate::state::AppState;

fn failed(chrome: &Chrome) -> impl Fn(ApiError) -> WebError + '_ {
    move |e| WebError::api(e, chrome)
}

/// A category in the page's language.
pub fn category(l: Lang, c: Category) -> &'static str {
    match c {
        Category::Basic => l.t("基本信息", "basic"),
        Category::Commitment => l.t("信用承诺", "commitment"),
        Category::Serious => l.t("严重失信", "serious"),
        Category::Other => l.t("其他信息", "other"),
    }
}

fn field_type(l: Lang, t: FieldType) -> &'static str {
    match t {
        FieldType::Int => l.t("整数", "integer"),
        FieldType::Decimal => l.t("数值", "decimal"),
        FieldType::Date => l.t("日期", "date"),
        FieldType::Bool => l.t("是/否", "yes/no"),
        FieldType::Enum => l.t("枚举", "one of a list"),
        FieldType::String => l.t("文本", "text"),
        FieldType::RegionCode => l.t("行政区划代码", "region code"),
        FieldType::Template => l.t("承诺模板", "commitment template"),
    }
}

fn field_text(l: Lang, f: &FieldSpec) -> String {
    let mut s = format!("{}（{}", f.name, field_type(l, f.ty));
    if f.required {
        s.push_str(l.t("，必填", ", required"));
    }
    if !f.values.is_empty() {
        s.push_str(l.t("：", ": "));
        s.push_str(&f.values.join("/"));
    }
    s.push('）');
    s
}

/// `GET /rules/catalogue`.
#[derive(Template, WebTemplate)]
#[template(path = "public/catalogue.html")]
pub struct CataloguePage {
    chrome: Chrome,
    version: i64,
    label: String,
    effective_from: String,
    items: Vec<Item>,
}

impl CataloguePage {
    fn category(&self, c: &Category) -> &'static str {
        category(self.chrome.l, *c)
    }
    fn fields(&self, i: &Item) -> String {
        let l = self.chrome.l;
        let list: Vec<String> = i.fields.iter().map(|f| field_text(l, f)).collect();
        format!(
            "{}{}",
            l.t("字段：", "Fields: "),
            list.join(l.t("；", "; "))
        )
    }
    fn units(&self, i: &Item) -> String {
        let l = self.chrome.l;
        format!(
            "{}{}",
            l.t("报送单位：", "Pushed by: "),
            i.responsible.join(", ")
        )
    }
    fn yes(&self, b: &bool) -> &'static str {
        if *b {
            self.chrome.l.t("是", "yes")
        } else {
            self.chrome.l.t("否", "no")
        }
    }
}

/// `GET /rules/catalogue`: the catalogue version in force.
pub async fn catalogue(State(state): State<AppState>, l: Lang) -> Result<CataloguePage, WebError> {
    let chrome = Chrome::public(l, "/rules/catalogue");
    let (v, c) = state
        .reading(chengxin_jobs::catalogue::current)
        .await
        .and_then(|r| r.map_err(ApiError::internal))
        .map_err(failed(&chrome))?;
    Ok(CataloguePage {
        chrome,
        version: v.number,
        label: v.label,
        effective_from: v.effective_from.to_string(),
        items: c.items.clone(),
    })
}

/// One indicator as the model page shows it.
pub struct IndicatorRow {
    pub code: String,
    pub name: String,
    pub category: &'static str,
    pub best: i32,
    /// The rule in words, in the page's language.
    pub rule: String,
    /// `(range, points)` of a banded indicator.
    pub bands: Vec<(String, i32)>,
}

fn window(l: Lang, years: i32) -> String {
    if l.is_zh() {
        format!("近 {years} 年内")
    } else {
        format!("within {years} year(s)")
    }
}

fn rule_text(l: Lang, r: &Rule) -> String {
    let zh = l.is_zh();
    match r {
        Rule::LatestBanded {
            item,
            field,
            window_years,
            missing_points,
            ..
        } => {
            if zh {
                format!(
                    "按{}最新一条 {item} 记录的 {field} 分档计分；无记录得 {missing_points} 分",
                    window(l, *window_years)
                )
            } else {
                format!("the latest {item} record's {field} {}, by band; {missing_points} points without one", window(l, *window_years))
            }
        }
        Rule::CommitmentsActive {
            item,
            points_each,
            cap,
        } => {
            if zh {
                format!("每项履约中的 {item} 承诺 {points_each} 分，合计不超过 {cap} 分")
            } else {
                format!("{points_each} points per {item} commitment in its term, at most {cap}")
            }
        }
        Rule::CommitmentsFulfilled {
            item,
            window_years,
            points_each,
            cap,
        } => {
            if zh {
                format!(
                    "{}每项履约完成的 {item} 承诺 {points_each} 分，合计不超过 {cap} 分",
                    window(l, *window_years)
                )
            } else {
                format!(
                    "{points_each} points per {item} commitment fulfilled {}, at most {cap}",
                    window(l, *window_years)
                )
            }
        }
        Rule::CommitmentBreaches {
            item,
            window_years,
            points_each,
            cap,
        } => {
            if zh {
                format!(
                    "{}每项违背的 {item} 承诺 {points_each} 分，合计不超过 {cap} 分",
                    window(l, *window_years)
                )
            } else {
                format!(
                    "{points_each} points per {item} commitment breached {}, at most {cap}",
                    window(l, *window_years)
                )
            }
        }
        Rule::InPublicity {
            item,
            field,
            cap,
            levels,
        } => {
            let lv: Vec<String> = levels
                .iter()
                .map(|(k, v)| {
                    if zh {
                        format!("{k}：{} 分，公示 {} 个月", v.points, v.months)
                    } else {
                        format!("{k}: {} points for {} months", v.points, v.months)
                    }
                })
                .collect();
            if zh {
                format!(
                    "公示期内的 {item} 记录按 {field} 计分（{}），合计不超过 {cap} 分",
                    lv.join("；")
                )
            } else {
                format!(
                    "{item} records in publicity by {field} ({}), at most {cap}",
                    lv.join("; ")
                )
            }
        }
        Rule::Listed {
            item,
            points_each,
            cap,
            ceiling,
            ..
        } => {
            let c = ceiling
                .map(|c| {
                    if zh {
                        format!("；期间总分不超过 {c}")
                    } else {
                        format!("; the score is at most {c} meanwhile")
                    }
                })
                .unwrap_or_default();
            if zh {
                format!("每项有效的 {item} 名单记录 {points_each} 分，合计不超过 {cap} 分{c}")
            } else {
                format!("{points_each} points per active {item} listing, at most {cap}{c}")
            }
        }
        Rule::ByLevel {
            item,
            field,
            window_years,
            cap,
            points,
        } => {
            let p: Vec<String> = points.iter().map(|(k, v)| format!("{k} {v}")).collect();
            if zh {
                format!(
                    "{}的 {item} 记录按 {field} 计分（{}），合计不超过 {cap} 分",
                    window(l, *window_years),
                    p.join("，")
                )
            } else {
                format!(
                    "{item} records {} by {field} ({}), at most {cap}",
                    window(l, *window_years),
                    p.join(", ")
                )
            }
        }
        Rule::SumSteps {
            item,
            field,
            window_years,
            step,
            points_per_step,
            cap,
        } => {
            if zh {
                format!("{}的 {item} 记录 {field} 合计每满 {step} 得 {points_per_step} 分，合计不超过 {cap} 分", window(l, *window_years))
            } else {
                format!(
                    "{points_per_step} points per full {step} of {item} {field} {}, at most {cap}",
                    window(l, *window_years)
                )
            }
        }
        Rule::Count {
            item,
            window_years,
            points_each,
            cap,
        } => {
            if zh {
                format!(
                    "{}每条 {item} 记录 {points_each} 分，合计不超过 {cap} 分",
                    window(l, *window_years)
                )
            } else {
                format!(
                    "{points_each} points per {item} record {}, at most {cap}",
                    window(l, *window_years)
                )
            }
        }
    }
}

fn indicator_row(l: Lang, i: &Indicator, best: i32) -> IndicatorRow {
    let bands = match &i.rule {
        Rule::LatestBanded { bands, .. } => bands
            .iter()
            .map(|b| {
                (
                    format!("{}–{}", b.min.normalize(), b.max.normalize()),
                    b.points,
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    IndicatorRow {
        code: i.code.clone(),
        name: l.t(&i.name_zh, &i.name_en).to_owned(),
        category: category(l, i.category),
        best,
        rule: rule_text(l, &i.rule),
        bands,
    }
}

/// `GET /rules/model`.
#[derive(Template, WebTemplate)]
#[template(path = "public/model.html")]
pub struct ModelPage {
    chrome: Chrome,
    m: ModelInForce,
    indicators: Vec<IndicatorRow>,
    versions: Vec<String>,
}

/// `GET /rules/model`: the score model in force.
pub async fn model(State(state): State<AppState>, l: Lang) -> Result<ModelPage, WebError> {
    let chrome = Chrome::public(l, "/rules/model");
    let (m, versions) = state
        .reading(|ctx| {
            Ok::<_, chengxin_jobs::JobError>((
                rules::model_in_force(ctx)?,
                rules::published_models(ctx)?,
            ))
        })
        .await
        .and_then(|r| r.map_err(ApiError::internal))
        .map_err(failed(&chrome))?;
    let indicators = m
        .doc
        .indicators
        .iter()
        .zip(&m.best)
        .map(|(i, b)| indicator_row(l, i, *b))
        .collect();
    Ok(ModelPage {
        chrome,
        m,
        indicators,
        versions: versions.into_iter().map(|v| v.version).collect(),
    })
}

#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /rules/model/diff`.
#[derive(Template, WebTemplate)]
#[template(path = "public/model_diff.html")]
pub struct DiffPage {
    chrome: Chrome,
    versions: Vec<String>,
    from: String,
    to: String,
    diff: Option<ModelDiff>,
}

impl DiffPage {
    fn change(&self, c: &Change) -> &'static str {
        let l = self.chrome.l;
        match c {
            Change::Added => l.t("新增", "added"),
            Change::Removed => l.t("删除", "removed"),
            Change::Changed => l.t("修改", "changed"),
        }
    }

    fn part(&self, p: &PartChange) -> String {
        let l = self.chrome.l;
        let label = match p.part.as_str() {
            "name" => l.t("名称", "name"),
            "factor" => l.t("影响因素说明", "factor text"),
            "category" => l.t("类别", "category"),
            "kind" => l.t("计分方式", "kind of rule"),
            "item" => l.t("信息项", "item"),
            "field" | "start_field" | "end_field" => l.t("字段", "field"),
            "window_years" => l.t("时间窗口（年）", "window (years)"),
            "missing_points" => l.t("无记录得分", "points without a record"),
            "gap_points" => l.t("档外得分", "points outside the bands"),
            "missing_factor" => l.t("无记录说明", "text without a record"),
            "bands" => l.t("分档", "bands"),
            "points_each" => l.t("每项分值", "points each"),
            "cap" => l.t("上限", "cap"),
            "levels" | "points" => l.t("各级分值", "points by level"),
            "ceiling" => l.t("总分上限", "score ceiling"),
            "step" => l.t("步长", "step"),
            "points_per_step" => l.t("每步分值", "points per step"),
            _ => l.t("其他参数", "another parameter"),
        };
        let v = |x: &Option<Value>| x.as_ref().map_or_else(|| "—".to_owned(), value_text);
        format!(
            "{label}{}{} → {}",
            l.t("：", ": "),
            v(&p.before),
            v(&p.after)
        )
    }

    fn grade(&self, g: &Option<chengxin_domain::model::Grade>) -> String {
        g.as_ref().map_or_else(
            || "—".to_owned(),
            |g| {
                format!(
                    "{}–{} {}",
                    g.min,
                    g.max,
                    self.chrome.l.t(&g.name_zh, &g.name_en)
                )
            },
        )
    }
}

/// A rule parameter's value, compactly (bands as `min–max: points`).
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(value_text).collect::<Vec<_>>().join("; "),
        Value::Object(o) if o.contains_key("points") && o.contains_key("min") => format!(
            "{}–{}: {}",
            value_text(&o["min"]),
            value_text(&o["max"]),
            value_text(&o["points"])
        ),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k} {}", value_text(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// `GET /rules/model/diff?from=V1&to=V2`: a version picker; with both
/// versions, what changed (an unknown version: the 404 page).
pub async fn diff(
    State(state): State<AppState>,
    l: Lang,
    Query(q): Query<DiffQuery>,
) -> Result<DiffPage, WebError> {
    let chrome = Chrome::public(l, "/rules/model/diff");
    let from = q.from.unwrap_or_default().trim().to_owned();
    let to = q.to.unwrap_or_default().trim().to_owned();
    let (f, t) = (from.clone(), to.clone());
    let (versions, diff) = state
        .reading(move |ctx| {
            let versions: Vec<String> = rules::published_models(ctx)?
                .into_iter()
                .map(|m| m.version)
                .collect();
            let diff: Result<Option<ModelDiff>, ()> = if f.is_empty() || t.is_empty() {
                Ok(None)
            } else {
                match rules::model_diff(ctx, &f, &t)? {
                    Some(d) => Ok(Some(d)),
                    None => Err(()),
                }
            };
            Ok::<_, chengxin_jobs::JobError>((versions, diff))
        })
        .await
        .and_then(|r| r.map_err(ApiError::internal))
        .map_err(failed(&chrome))?;
    let diff = diff.map_err(|()| not_found(&chrome))?;
    Ok(DiffPage {
        chrome,
        versions,
        from,
        to,
        diff,
    })
}
