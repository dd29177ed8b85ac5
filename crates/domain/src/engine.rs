//! The score engine: pure and deterministic. A person's records, an as-of
//! date and a model in; eligibility, score, grade, per-indicator points and
//! the factors that held the score back out.

use jiff::civil::Date;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::catalogue::{Catalogue, Category, FieldType};
use crate::commitment::{outcome, CommitmentOutcome};
use crate::dates::{add_months, within_years};
use crate::eligibility::{EligibilityRules, Ineligibility, MissingForEligibility};
use crate::model::{Band, Grade, LevelRule, Model, Rule, Text};
use crate::record::{PersonInput, Record};

mod windows;
pub use windows::leaves_window;

/// Scores never leave this range.
pub const MAX_SCORE: i32 = 1000;

/// A model and catalogue bound together, ready to score people.
#[derive(Debug, Clone)]
pub struct Engine {
    model: Model,
    rules: Vec<Compiled>,
    eligibility: EligibilityRules,
    templates: Vec<CompiledTemplate>,
    commitment: Option<CommitmentFields>,
    /// The bounds line's English name, quoting [`MAX_SCORE`].
    bounds_en: String,
}

/// The model does not fit the catalogue (should have been caught by validation).
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Eligibility(#[from] MissingForEligibility),
    #[error("indicator {0}: {1}")]
    Indicator(String, String),
}

#[derive(Debug, Clone)]
struct Compiled {
    code: String,
    category: Category,
    name_zh: String,
    name_en: String,
    factor: Text,
    missing_factor: Option<Text>,
    cap: i32,
    best: i32,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    LatestBanded {
        item: usize,
        field: usize,
        window: i32,
        missing: i32,
        gap: Option<i32>,
        bands: Vec<Band>,
    },
    CommitmentsActive {
        each: i32,
    },
    CommitmentsFulfilled {
        window: i32,
        each: i32,
    },
    CommitmentBreaches {
        window: i32,
        each: i32,
    },
    InPublicity {
        item: usize,
        field: usize,
        levels: Vec<(String, LevelRule)>,
    },
    Listed {
        item: usize,
        start: usize,
        end: Option<usize>,
        each: i32,
        /// The ceiling and its factor text, which quotes it.
        ceiling: Option<(i32, Text)>,
    },
    ByLevel {
        item: usize,
        field: usize,
        window: i32,
        points: Vec<(String, i32)>,
    },
    SumSteps {
        item: usize,
        field: usize,
        window: i32,
        step: Decimal,
        per_step: i32,
    },
    Count {
        item: usize,
        window: i32,
        each: i32,
    },
}

#[derive(Debug, Clone)]
struct CommitmentFields {
    item: usize,
    template: usize,
}

#[derive(Debug, Clone)]
struct CompiledTemplate {
    code: String,
    term_months: i32,
    monitors: Vec<Monitor>,
}

/// A monitored item and the (field, accepted values) conditions on it.
type Monitor = (usize, Vec<(usize, Vec<String>)>);

/// A signed commitment: its record, signing date, term end and outcome.
type Signed = (i64, Date, Date, CommitmentOutcome);

/// Why a person is not eligible, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

/// One line of the explanation: an indicator's points and the records behind them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contribution<'e> {
    pub indicator: &'e str,
    pub category: &'static str,
    pub name_zh: &'e str,
    pub name_en: &'e str,
    pub points: i32,
    /// The most this line can contribute.
    pub best: i32,
    pub records: Vec<i64>,
}

/// Something that held the score back, largest gap first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Factor<'e> {
    pub indicator: &'e str,
    pub code: &'e str,
    pub gap: i32,
    pub zh: &'e str,
    pub en: &'e str,
}

/// The whole result for one person on one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation<'e> {
    pub eligible: bool,
    pub reasons: Vec<Reason>,
    pub score: Option<i32>,
    pub grade: Option<&'e str>,
    pub grade_zh: Option<&'e str>,
    pub grade_en: Option<&'e str>,
    pub model_version: &'e str,
    pub model_hash: &'e str,
    pub as_of: Date,
    pub contributions: Vec<Contribution<'e>>,
    pub factors: Vec<Factor<'e>>,
}

/// Synthetic explanation lines that make the points add up exactly.
pub const CEILING_LINE: &str = "serious_dishonesty_ceiling";
/// The line that records clamping into 0–1000.
pub const BOUNDS_LINE: &str = "score_bounds";

/// The factor shown while a listing's ceiling holds the score down; the
/// numbers come from the model.
fn ceiling_factor(ceiling: i32) -> Text {
    Text {
        code: "SERIOUS_DISHONESTY_CEILING".into(),
        zh: format!("存在严重失信名单记录期间，诚信分最高为{ceiling}分"),
        en: format!(
            "While a serious dishonesty listing is active the score is capped at {ceiling}"
        ),
    }
}

impl Engine {
    /// Binds a validated model to the catalogue.
    pub fn new(catalogue: &Catalogue, model: &Model) -> Result<Engine, EngineError> {
        let eligibility = EligibilityRules::new(catalogue)?;
        let item_idx = |code: &str, ind: &str| {
            catalogue
                .items
                .iter()
                .position(|i| i.code == code)
                .ok_or_else(|| EngineError::Indicator(ind.into(), format!("unknown item {code}")))
        };
        let field_idx = |item: usize, name: &str, ind: &str| {
            catalogue.items[item]
                .field_index(name)
                .ok_or_else(|| EngineError::Indicator(ind.into(), format!("unknown field {name}")))
        };
        let mut commitment = None;
        let mut rules = Vec::new();
        for ind in &model.doc.indicators {
            let c = ind.code.as_str();
            let mut commitment_item = |item: &str| -> Result<(), EngineError> {
                let i = item_idx(item, c)?;
                let template = catalogue.items[i]
                    .fields
                    .iter()
                    .position(|f| f.ty == FieldType::Template)
                    .ok_or_else(|| EngineError::Indicator(c.into(), "not a commitment".into()))?;
                commitment = Some(CommitmentFields { item: i, template });
                Ok(())
            };
            let (kind, cap, missing_factor) = match &ind.rule {
                Rule::LatestBanded {
                    item,
                    field,
                    window_years,
                    missing_points,
                    bands,
                    gap_points,
                    missing_factor,
                } => {
                    let i = item_idx(item, c)?;
                    let kind = Kind::LatestBanded {
                        item: i,
                        field: field_idx(i, field, c)?,
                        window: *window_years,
                        missing: *missing_points,
                        gap: *gap_points,
                        bands: bands.clone(),
                    };
                    (kind, 0, missing_factor.clone())
                }
                Rule::CommitmentsActive {
                    item,
                    points_each,
                    cap,
                } => {
                    commitment_item(item)?;
                    (Kind::CommitmentsActive { each: *points_each }, *cap, None)
                }
                Rule::CommitmentsFulfilled {
                    item,
                    window_years,
                    points_each,
                    cap,
                } => {
                    commitment_item(item)?;
                    (
                        Kind::CommitmentsFulfilled {
                            window: *window_years,
                            each: *points_each,
                        },
                        *cap,
                        None,
                    )
                }
                Rule::CommitmentBreaches {
                    item,
                    window_years,
                    points_each,
                    cap,
                } => {
                    commitment_item(item)?;
                    (
                        Kind::CommitmentBreaches {
                            window: *window_years,
                            each: *points_each,
                        },
                        *cap,
                        None,
                    )
                }
                Rule::InPublicity {
                    item,
                    field,
                    cap,
                    levels,
                } => {
                    let i = item_idx(item, c)?;
                    let levels = levels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    (
                        Kind::InPublicity {
                            item: i,
                            field: field_idx(i, field, c)?,
                            levels,
                        },
                        *cap,
                        None,
                    )
                }
                Rule::Listed {
                    item,
                    start_field,
                    end_field,
                    points_each,
                    cap,
                    ceiling,
                } => {
                    let i = item_idx(item, c)?;
                    let end = end_field
                        .as_deref()
                        .map(|e| field_idx(i, e, c))
                        .transpose()?;
                    let kind = Kind::Listed {
                        item: i,
                        start: field_idx(i, start_field, c)?,
                        end,
                        each: *points_each,
                        ceiling: ceiling.map(|c| (c, ceiling_factor(c))),
                    };
                    (kind, *cap, None)
                }
                Rule::ByLevel {
                    item,
                    field,
                    window_years,
                    cap,
                    points,
                } => {
                    let i = item_idx(item, c)?;
                    let points = points.iter().map(|(k, v)| (k.clone(), *v)).collect();
                    let kind = Kind::ByLevel {
                        item: i,
                        field: field_idx(i, field, c)?,
                        window: *window_years,
                        points,
                    };
                    (kind, *cap, None)
                }
                Rule::SumSteps {
                    item,
                    field,
                    window_years,
                    step,
                    points_per_step,
                    cap,
                } => {
                    let i = item_idx(item, c)?;
                    let kind = Kind::SumSteps {
                        item: i,
                        field: field_idx(i, field, c)?,
                        window: *window_years,
                        step: *step,
                        per_step: *points_per_step,
                    };
                    (kind, *cap, None)
                }
                Rule::Count {
                    item,
                    window_years,
                    points_each,
                    cap,
                } => {
                    let i = item_idx(item, c)?;
                    (
                        Kind::Count {
                            item: i,
                            window: *window_years,
                            each: *points_each,
                        },
                        *cap,
                        None,
                    )
                }
            };
            let best = best_points(&kind, cap);
            rules.push(Compiled {
                code: ind.code.clone(),
                category: ind.category,
                name_zh: ind.name_zh.clone(),
                name_en: ind.name_en.clone(),
                factor: ind.factor.clone(),
                missing_factor,
                cap,
                best,
                kind,
            });
        }
        let mut templates = Vec::new();
        for t in &catalogue.templates.templates {
            let mut monitors = Vec::new();
            for m in &t.monitors {
                let i = item_idx(&m.item, &t.code)?;
                let conds = m
                    .conditions
                    .iter()
                    .map(|(f, vals)| Ok((field_idx(i, f, &t.code)?, vals.clone())))
                    .collect::<Result<Vec<_>, EngineError>>()?;
                monitors.push((i, conds));
            }
            templates.push(CompiledTemplate {
                code: t.code.clone(),
                term_months: t.term_months,
                monitors,
            });
        }
        Ok(Engine {
            model: model.clone(),
            rules,
            eligibility,
            templates,
            commitment,
            bounds_en: format!("Kept within 0–{MAX_SCORE}"),
        })
    }

    /// The model this engine scores with.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The most the indicator `code` can contribute (its `best` in every
    /// explanation), if the model has it.
    pub fn best(&self, code: &str) -> Option<i32> {
        self.rules.iter().find(|r| r.code == code).map(|r| r.best)
    }

    /// Scores one person as of `as_of`. Records dated after `as_of`, and
    /// records that do not count (withdrawn, repaired, corrected, pending,
    /// rejected), are ignored.
    pub fn evaluate(&self, person: &PersonInput, as_of: Date) -> Evaluation<'_> {
        let records: Vec<&Record> = person
            .records
            .iter()
            .filter(|r| r.status.counts() && r.date <= as_of)
            .collect();
        let model = &self.model;
        let mut eval = Evaluation {
            eligible: false,
            reasons: Vec::new(),
            score: None,
            grade: None,
            grade_zh: None,
            grade_en: None,
            model_version: &model.doc.version,
            model_hash: &model.hash,
            as_of,
            contributions: Vec::new(),
            factors: Vec::new(),
        };
        let reasons = self.eligibility.check(person.birth_date, &records, as_of);
        if !reasons.is_empty() {
            eval.reasons = reasons.into_iter().map(reason).collect();
            return eval;
        }
        eval.eligible = true;
        let commitments = self.commitment_outcomes(&records, as_of);
        let mut ceiling: Option<(i32, &Text)> = None;
        let mut factors: Vec<(i32, usize, Factor<'_>)> = Vec::new();
        for rule in &self.rules {
            let (points, ids, missing) =
                self.apply(rule, &records, &commitments, as_of, &mut ceiling);
            let gap = rule.best - points;
            if gap > 0 {
                let text = if missing {
                    rule.missing_factor.as_ref().unwrap_or(&rule.factor)
                } else {
                    &rule.factor
                };
                factors.push((gap, factors.len(), factor(&rule.code, text, gap)));
            }
            eval.contributions.push(Contribution {
                indicator: &rule.code,
                category: rule.category.as_str(),
                name_zh: &rule.name_zh,
                name_en: &rule.name_en,
                points,
                best: rule.best,
                records: ids,
            });
        }
        let sum: i32 = eval.contributions.iter().map(|c| c.points).sum();
        let bounded = sum.clamp(0, MAX_SCORE);
        if bounded != sum {
            eval.contributions.push(synthetic(
                BOUNDS_LINE,
                "adjustment",
                "分值范围调整",
                &self.bounds_en,
                bounded - sum,
            ));
        }
        let mut score = bounded;
        if let Some((c, text)) = ceiling.filter(|&(c, _)| bounded > c) {
            let line = c - bounded;
            eval.contributions.push(synthetic(
                CEILING_LINE,
                Category::Serious.as_str(),
                "严重失信封顶",
                "Serious dishonesty ceiling",
                line,
            ));
            factors.push((-line, factors.len(), factor(CEILING_LINE, text, -line)));
            score = c;
        }
        factors.sort_by_key(|(gap, order, _)| (-gap, *order));
        eval.factors = factors.into_iter().take(4).map(|(_, _, f)| f).collect();
        eval.score = Some(score);
        if let Some(Grade {
            grade,
            name_zh,
            name_en,
            ..
        }) = model.grade(score)
        {
            eval.grade = Some(grade);
            eval.grade_zh = Some(name_zh);
            eval.grade_en = Some(name_en);
        }
        eval
    }

    /// Each counting commitment's outcome as of `as_of`: (record id,
    /// signed_on, term end, outcome), in the order of the person's records.
    pub fn commitments(
        &self,
        person: &PersonInput,
        as_of: Date,
    ) -> Vec<(i64, Date, Date, CommitmentOutcome)> {
        let records: Vec<&Record> = person
            .records
            .iter()
            .filter(|r| r.status.counts() && r.date <= as_of)
            .collect();
        self.commitment_outcomes(&records, as_of)
    }

    /// Each C01's outcome (record id, signed_on, term end, outcome).
    fn commitment_outcomes(&self, records: &[&Record], as_of: Date) -> Vec<Signed> {
        let Some(cf) = &self.commitment else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for r in records.iter().filter(|r| r.item == cf.item) {
            let Some(t) = r
                .fields
                .text(cf.template)
                .and_then(|code| self.templates.iter().find(|t| t.code == code))
            else {
                continue;
            };
            let end = add_months(r.date, t.term_months);
            let monitored = records.iter().filter(|m| {
                t.monitors.iter().any(|(item, conds)| {
                    m.item == *item
                        && conds.iter().all(|(f, vals)| {
                            m.fields
                                .text(*f)
                                .is_some_and(|v| vals.iter().any(|a| a == v))
                        })
                })
            });
            let o = outcome(r.date, end, as_of, monitored.map(|m| (m.date, m.id)));
            out.push((r.id, r.date, end, o));
        }
        out
    }

    /// One indicator's points, the records behind them, and whether it had no data.
    fn apply<'s>(
        &self,
        rule: &'s Compiled,
        records: &[&Record],
        commitments: &[Signed],
        as_of: Date,
        ceiling: &mut Option<(i32, &'s Text)>,
    ) -> (i32, Vec<i64>, bool) {
        let cap = |total: i64| total.clamp(-i64::from(rule.cap), i64::from(rule.cap)) as i32;
        let of = |item: usize| records.iter().filter(move |r| r.item == item);
        let windowed =
            |item: usize, years: i32| of(item).filter(move |r| within_years(r.date, as_of, years));
        match &rule.kind {
            Kind::LatestBanded {
                item,
                field,
                window,
                missing,
                gap,
                bands,
            } => {
                let latest = windowed(*item, *window).max_by_key(|r| (r.date, r.id));
                match latest.and_then(|r| r.fields.number(*field).map(|v| (r, v))) {
                    Some((r, v)) => {
                        let p = bands
                            .iter()
                            .find(|b| b.min <= v && v <= b.max)
                            .map_or(gap.unwrap_or(*missing), |b| b.points);
                        (p, vec![r.id], false)
                    }
                    None => (*missing, Vec::new(), true),
                }
            }
            Kind::CommitmentsActive { each } => {
                let ids: Vec<i64> = commitments
                    .iter()
                    .filter(|(_, signed, end, _)| *signed <= as_of && as_of < *end)
                    .map(|c| c.0)
                    .collect();
                (cap(ids.len() as i64 * i64::from(*each)), ids, false)
            }
            Kind::CommitmentsFulfilled { window, each } => {
                let ids: Vec<i64> = commitments
                    .iter()
                    .filter(|c| matches!(c.3, CommitmentOutcome::Fulfilled { ended_on } if within_years(ended_on, as_of, *window)))
                    .map(|c| c.0)
                    .collect();
                (cap(ids.len() as i64 * i64::from(*each)), ids, false)
            }
            Kind::CommitmentBreaches { window, each } => {
                let mut ids = Vec::new();
                for c in commitments {
                    if let CommitmentOutcome::Breached { on, record } = c.3 {
                        if within_years(on, as_of, *window) {
                            ids.push(c.0);
                            ids.push(record);
                        }
                    }
                }
                let n = commitments
                    .iter()
                    .filter(|c| matches!(c.3, CommitmentOutcome::Breached { on, .. } if within_years(on, as_of, *window)))
                    .count();
                ids.sort_unstable();
                ids.dedup();
                (cap(n as i64 * i64::from(*each)), ids, false)
            }
            Kind::InPublicity {
                item,
                field,
                levels,
            } => {
                let mut total = 0i64;
                let mut ids = Vec::new();
                for r in of(*item) {
                    let Some(level) = r.fields.text(*field) else {
                        continue;
                    };
                    if let Some((_, l)) = levels.iter().find(|(k, _)| k == level) {
                        if r.date <= as_of && as_of < add_months(r.date, l.months) {
                            total += i64::from(l.points);
                            ids.push(r.id);
                        }
                    }
                }
                (cap(total), ids, false)
            }
            Kind::Listed {
                item,
                start,
                end,
                each,
                ceiling: c,
            } => {
                let ids: Vec<i64> = of(*item)
                    .filter(|r| {
                        let started = r.fields.date(*start).is_some_and(|s| s <= as_of);
                        let ended = end
                            .and_then(|e| r.fields.date(e))
                            .is_some_and(|e| e <= as_of);
                        started && !ended
                    })
                    .map(|r| r.id)
                    .collect();
                if !ids.is_empty() {
                    if let Some((c, text)) = c {
                        if ceiling.is_none_or(|(old, _)| *c < old) {
                            *ceiling = Some((*c, text));
                        }
                    }
                }
                (cap(ids.len() as i64 * i64::from(*each)), ids, false)
            }
            Kind::ByLevel {
                item,
                field,
                window,
                points,
            } => {
                let mut total = 0i64;
                let mut ids = Vec::new();
                for r in windowed(*item, *window) {
                    let p = r
                        .fields
                        .text(*field)
                        .and_then(|l| points.iter().find(|(k, _)| k == l));
                    if let Some((_, p)) = p {
                        total += i64::from(*p);
                        ids.push(r.id);
                    }
                }
                (cap(total), ids, false)
            }
            Kind::SumSteps {
                item,
                field,
                window,
                step,
                per_step,
            } => {
                let mut sum = Decimal::ZERO;
                let mut ids = Vec::new();
                for r in windowed(*item, *window) {
                    if let Some(v) = r.fields.number(*field) {
                        sum = sum.saturating_add(v);
                        ids.push(r.id);
                    }
                }
                let steps = (sum / *step).floor().to_i64().unwrap_or(i64::MAX / 4);
                (cap(steps.saturating_mul(i64::from(*per_step))), ids, false)
            }
            Kind::Count { item, window, each } => {
                let ids: Vec<i64> = windowed(*item, *window).map(|r| r.id).collect();
                (cap(ids.len() as i64 * i64::from(*each)), ids, false)
            }
        }
    }
}

/// The most an indicator can contribute: its top band, or its cap when it rewards.
fn best_points(kind: &Kind, cap: i32) -> i32 {
    let positive = |each: i32| if each > 0 { cap } else { 0 };
    match kind {
        Kind::LatestBanded {
            bands,
            missing,
            gap,
            ..
        } => bands
            .iter()
            .map(|b| b.points)
            .chain([*missing])
            .chain(*gap)
            .max()
            .unwrap_or(0),
        Kind::CommitmentsActive { each }
        | Kind::CommitmentsFulfilled { each, .. }
        | Kind::CommitmentBreaches { each, .. } => positive(*each),
        Kind::Listed { each, .. } | Kind::Count { each, .. } => positive(*each),
        Kind::SumSteps { per_step, .. } => positive(*per_step),
        Kind::InPublicity { levels, .. } => {
            positive(levels.iter().map(|(_, l)| l.points).max().unwrap_or(0))
        }
        Kind::ByLevel { points, .. } => positive(points.iter().map(|(_, p)| *p).max().unwrap_or(0)),
    }
}

fn reason(r: Ineligibility) -> Reason {
    Reason {
        code: r.code(),
        zh: r.zh(),
        en: r.en(),
    }
}

fn factor<'e>(indicator: &'e str, text: &'e Text, gap: i32) -> Factor<'e> {
    Factor {
        indicator,
        code: &text.code,
        gap,
        zh: &text.zh,
        en: &text.en,
    }
}

fn synthetic<'e>(
    code: &'static str,
    category: &'static str,
    zh: &'static str,
    en: &'e str,
    points: i32,
) -> Contribution<'e> {
    Contribution {
        indicator: code,
        category,
        name_zh: zh,
        name_en: en,
        points,
        best: 0,
        records: Vec::new(),
    }
}
