//! The difference between two score model documents, as the public rules
//! pages show it: grades and indicators added, removed or changed, and for a
//! changed indicator which of its parts changed (names, factor text,
//! category, or a parameter of its rule such as `bands` or `cap`), with the
//! values before and after.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::{Grade, Indicator, ModelDoc};

/// How one grade or indicator differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

/// One part of an indicator that differs: `name`, `factor`, `category`, or
/// a key of its rule (`kind`, `bands`, `cap`, `points_each`, …), with its
/// values (absent where the part is absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartChange {
    pub part: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// An indicator that differs between the versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorChange {
    pub code: String,
    pub change: Change,
    /// The names of the newer version where it has one, else the older's.
    pub name_zh: String,
    pub name_en: String,
    /// For [`Change::Changed`]: the parts that differ, in a stable order.
    pub parts: Vec<PartChange>,
}

/// A grade that differs between the versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GradeChange {
    pub grade: String,
    pub change: Change,
    pub before: Option<Grade>,
    pub after: Option<Grade>,
}

/// What changed from one model version to another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelDiff {
    pub from: String,
    pub to: String,
    /// The catalogue labels, when the versions name different ones.
    pub catalogue: Option<(String, String)>,
    pub grades: Vec<GradeChange>,
    pub indicators: Vec<IndicatorChange>,
}

impl ModelDiff {
    /// True when the two versions score alike (nothing listed differs).
    pub fn is_empty(&self) -> bool {
        self.catalogue.is_none() && self.grades.is_empty() && self.indicators.is_empty()
    }
}

/// A model document read from its TOML text without checking it against a
/// catalogue (for showing versions that may predate the catalogue in force).
pub fn read(text: &str) -> Result<ModelDoc, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

/// The difference from `from` to `to`. Grades are listed in the order of
/// `to` then the removed ones; indicators likewise.
pub fn diff(from: &ModelDoc, to: &ModelDoc) -> ModelDiff {
    let mut grades = Vec::new();
    for g in &to.grades {
        match from.grades.iter().find(|o| o.grade == g.grade) {
            None => grades.push(GradeChange {
                grade: g.grade.clone(),
                change: Change::Added,
                before: None,
                after: Some(g.clone()),
            }),
            Some(o) if o != g => grades.push(GradeChange {
                grade: g.grade.clone(),
                change: Change::Changed,
                before: Some(o.clone()),
                after: Some(g.clone()),
            }),
            Some(_) => {}
        }
    }
    for o in &from.grades {
        if !to.grades.iter().any(|g| g.grade == o.grade) {
            grades.push(GradeChange {
                grade: o.grade.clone(),
                change: Change::Removed,
                before: Some(o.clone()),
                after: None,
            });
        }
    }
    let mut indicators = Vec::new();
    for i in &to.indicators {
        match from.indicators.iter().find(|o| o.code == i.code) {
            None => indicators.push(whole(i, Change::Added)),
            Some(o) => {
                let parts = parts(o, i);
                if !parts.is_empty() {
                    indicators.push(IndicatorChange {
                        code: i.code.clone(),
                        change: Change::Changed,
                        name_zh: i.name_zh.clone(),
                        name_en: i.name_en.clone(),
                        parts,
                    });
                }
            }
        }
    }
    for o in &from.indicators {
        if !to.indicators.iter().any(|i| i.code == o.code) {
            indicators.push(whole(o, Change::Removed));
        }
    }
    ModelDiff {
        from: from.version.clone(),
        to: to.version.clone(),
        catalogue: (from.catalogue != to.catalogue)
            .then(|| (from.catalogue.clone(), to.catalogue.clone())),
        grades,
        indicators,
    }
}

fn whole(i: &Indicator, change: Change) -> IndicatorChange {
    IndicatorChange {
        code: i.code.clone(),
        change,
        name_zh: i.name_zh.clone(),
        name_en: i.name_en.clone(),
        parts: Vec::new(),
    }
}

/// The parts of an indicator that differ, names first, then the rule's keys
/// in alphabetical order.
fn parts(before: &Indicator, after: &Indicator) -> Vec<PartChange> {
    let mut out = Vec::new();
    let mut part = |name: &str, b: Option<Value>, a: Option<Value>| {
        if b != a {
            out.push(PartChange {
                part: name.to_owned(),
                before: b,
                after: a,
            });
        }
    };
    part(
        "name",
        Some(Value::from(format!(
            "{} / {}",
            before.name_zh, before.name_en
        ))),
        Some(Value::from(format!(
            "{} / {}",
            after.name_zh, after.name_en
        ))),
    );
    part(
        "factor",
        Some(Value::from(format!(
            "{} / {}",
            before.factor.zh, before.factor.en
        ))),
        Some(Value::from(format!(
            "{} / {}",
            after.factor.zh, after.factor.en
        ))),
    );
    part(
        "category",
        Some(value(&before.category)),
        Some(value(&after.category)),
    );
    let rule_b = value(&before.rule);
    let rule_a = value(&after.rule);
    let keys: BTreeSet<&String> = rule_b
        .as_object()
        .into_iter()
        .chain(rule_a.as_object())
        .flat_map(|o| o.keys())
        .collect();
    for k in keys {
        part(k, rule_b.get(k).cloned(), rule_a.get(k).cloned());
    }
    out
}

/// Anything serializable, as a JSON value.
fn value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DEFAULT_MODEL;

    #[test]
    fn a_version_does_not_differ_from_itself() {
        let m = read(DEFAULT_MODEL).unwrap();
        let d = diff(&m, &m);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!((d.from.as_str(), d.to.as_str()), ("2026.1", "2026.1"));
    }

    #[test]
    fn changed_added_and_removed_parts_are_named() {
        let from = read(DEFAULT_MODEL).unwrap();
        let mut to = from.clone();
        to.version = "2026.2".into();
        // A changed parameter of one indicator, a removed and an added one.
        let changed = to.indicators[0].code.clone();
        let mut rule = serde_json::to_value(&to.indicators[0].rule).unwrap();
        let key = if rule.get("cap").is_some() {
            "cap"
        } else {
            "window_years"
        };
        let old = rule[key].as_i64().unwrap();
        rule[key] = Value::from(old + 1);
        to.indicators[0].rule = serde_json::from_value(rule).unwrap();
        let removed = to.indicators.pop().unwrap();
        let mut added = to.indicators[1].clone();
        added.code = "X99".into();
        to.indicators.push(added);
        to.grades[0].name_en = "Top".into();

        let d = diff(&from, &to);
        assert!(!d.is_empty());
        assert_eq!(d.indicators.len(), 3, "{:#?}", d.indicators);
        let c = &d.indicators[0];
        assert_eq!(
            (c.code.as_str(), c.change),
            (changed.as_str(), Change::Changed)
        );
        assert_eq!(c.parts.len(), 1, "{:?}", c.parts);
        assert_eq!(c.parts[0].part, key);
        assert_eq!(c.parts[0].before, Some(Value::from(old)));
        assert_eq!(c.parts[0].after, Some(Value::from(old + 1)));
        assert!(d
            .indicators
            .iter()
            .any(|i| i.code == "X99" && i.change == Change::Added));
        assert!(d
            .indicators
            .iter()
            .any(|i| i.code == removed.code && i.change == Change::Removed));
        assert_eq!(d.grades.len(), 1);
        assert_eq!(d.grades[0].change, Change::Changed);
        assert_eq!(d.grades[0].after.as_ref().unwrap().name_en, "Top");
        assert!(d.catalogue.is_none());
    }

    #[test]
    fn band_changes_are_a_part() {
        let from = read(DEFAULT_MODEL).unwrap();
        let mut to = from.clone();
        let i = to
            .indicators
            .iter_mut()
            .find(|i| matches!(i.rule, crate::model::Rule::LatestBanded { .. }))
            .expect("the built-in model has a banded indicator");
        if let crate::model::Rule::LatestBanded { bands, .. } = &mut i.rule {
            bands[0].points += 1;
        }
        let d = diff(&from, &to);
        assert_eq!(d.indicators.len(), 1);
        assert_eq!(d.indicators[0].parts[0].part, "bands");
    }
}
