//! Score models as versioned data: the file format (TOML), validation that
//! reports every error with its path, and compilation against a catalogue.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalogue::{Catalogue, Category, FieldType};

/// A bilingual explanation text with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub code: String,
    pub zh: String,
    pub en: String,
}

/// One grade band, inclusive on both ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    pub grade: String,
    pub min: i32,
    pub max: i32,
    pub name_zh: String,
    pub name_en: String,
}

/// A value band of a `latest_banded` indicator, inclusive on both ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub min: Decimal,
    pub max: Decimal,
    pub points: i32,
}

/// Points and publicity period of one penalty level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelRule {
    pub points: i32,
    pub months: i32,
}

/// The rule of an indicator: its `kind` and that kind's parameters.
/// `cap` is always a non-negative bound on the indicator's total, whatever its sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// The latest record of `item` in the window, its `field` mapped through bands.
    LatestBanded {
        item: String,
        field: String,
        window_years: i32,
        missing_points: i32,
        bands: Vec<Band>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        missing_factor: Option<Text>,
    },
    /// Commitments whose term covers the date.
    CommitmentsActive {
        item: String,
        points_each: i32,
        cap: i32,
    },
    /// Commitments fulfilled, their term having ended in the window.
    CommitmentsFulfilled {
        item: String,
        window_years: i32,
        points_each: i32,
        cap: i32,
    },
    /// Commitments breached, their first breaching record dated in the window.
    CommitmentBreaches {
        item: String,
        window_years: i32,
        points_each: i32,
        cap: i32,
    },
    /// Records in publicity: `field` names the level, each level its points and months.
    InPublicity {
        item: String,
        field: String,
        cap: i32,
        levels: BTreeMap<String, LevelRule>,
    },
    /// Listings active on the date, with an optional ceiling on the final score.
    Listed {
        item: String,
        start_field: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end_field: Option<String>,
        points_each: i32,
        cap: i32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ceiling: Option<i32>,
    },
    /// Records in the window, points by the value of `field`.
    ByLevel {
        item: String,
        field: String,
        window_years: i32,
        cap: i32,
        points: BTreeMap<String, i32>,
    },
    /// The sum of `field` over the window: `points_per_step` per full `step`.
    SumSteps {
        item: String,
        field: String,
        window_years: i32,
        step: Decimal,
        points_per_step: i32,
        cap: i32,
    },
    /// Records in the window, `points_each`.
    Count {
        item: String,
        window_years: i32,
        points_each: i32,
        cap: i32,
    },
}

/// One indicator as written in the model file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    pub code: String,
    pub category: Category,
    pub name_zh: String,
    pub name_en: String,
    pub factor: Text,
    #[serde(flatten)]
    pub rule: Rule,
}

/// A whole model document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDoc {
    pub version: String,
    pub catalogue: String,
    #[serde(default)]
    pub description: String,
    pub grades: Vec<Grade>,
    pub indicators: Vec<Indicator>,
}

/// Top-level shape, read first so that each indicator's errors are reported separately.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDoc {
    version: String,
    catalogue: String,
    #[serde(default)]
    description: String,
    grades: Vec<Grade>,
    indicators: Vec<toml::Table>,
}

/// One validation problem, located by a path such as `indicators[3].cap`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelIssue {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ModelIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a model file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the model has {} error(s): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ModelErrors(pub Vec<ModelIssue>);

/// A validated model, bound to the catalogue it was checked against.
#[derive(Debug, Clone)]
pub struct Model {
    pub doc: ModelDoc,
    /// SHA-256 of the canonical JSON of `doc`, hex.
    pub hash: String,
}

impl Model {
    /// The default model `2026.1` shipped in the binary.
    pub fn builtin(catalogue: &Catalogue) -> Model {
        Model::parse(DEFAULT_MODEL, catalogue)
            .unwrap_or_else(|e| panic!("built-in model is invalid: {e}"))
    }

    /// Parses and validates a TOML model against the catalogue.
    pub fn parse(text: &str, catalogue: &Catalogue) -> Result<Model, ModelErrors> {
        let issue = |path: &str, message: String| ModelIssue {
            path: path.to_owned(),
            message,
        };
        let raw: RawDoc =
            toml::from_str(text).map_err(|e| ModelErrors(vec![issue("(file)", e.to_string())]))?;
        let mut issues = Vec::new();
        let mut indicators = Vec::new();
        for (i, table) in raw.indicators.into_iter().enumerate() {
            let code = table
                .get("code")
                .and_then(|c| c.as_str())
                .unwrap_or("?")
                .to_owned();
            match Indicator::deserialize(toml::Value::Table(table)) {
                Ok(ind) => indicators.push((i, ind)),
                Err(e) => issues.push(issue(
                    &format!("indicators[{i}]"),
                    format!("({code}) {}", e.message()),
                )),
            }
        }
        let doc = ModelDoc {
            version: raw.version,
            catalogue: raw.catalogue,
            description: raw.description,
            grades: raw.grades,
            indicators: Vec::new(),
        };
        check_header(&doc, catalogue, &mut issues);
        check_grades(&doc.grades, &mut issues);
        let mut seen = BTreeSet::new();
        for (i, ind) in &indicators {
            let path = format!("indicators[{i}]");
            if !seen.insert(ind.code.clone()) {
                issues.push(issue(
                    &path,
                    format!("duplicate indicator code `{}`", ind.code),
                ));
            }
            check_rule(&path, &ind.rule, catalogue, &mut issues);
        }
        if !issues.is_empty() {
            return Err(ModelErrors(issues));
        }
        let doc = ModelDoc {
            indicators: indicators.into_iter().map(|(_, ind)| ind).collect(),
            ..doc
        };
        let canonical = serde_json::to_vec(&doc).unwrap_or_default();
        let hash = hex::encode(Sha256::digest(&canonical));
        Ok(Model { doc, hash })
    }

    /// The model's version label, e.g. `2026.1`.
    pub fn version(&self) -> &str {
        &self.doc.version
    }

    /// The grade band containing `score`.
    pub fn grade(&self, score: i32) -> Option<&Grade> {
        self.doc
            .grades
            .iter()
            .find(|g| g.min <= score && score <= g.max)
    }
}

/// The default model file's text.
pub const DEFAULT_MODEL: &str = include_str!("../../../models/2026.1.toml");

fn check_header(doc: &ModelDoc, catalogue: &Catalogue, issues: &mut Vec<ModelIssue>) {
    if doc.version.trim().is_empty() {
        issues.push(ModelIssue {
            path: "version".into(),
            message: "must not be empty".into(),
        });
    }
    if doc.catalogue != catalogue.version {
        issues.push(ModelIssue {
            path: "catalogue".into(),
            message: format!(
                "model is for catalogue `{}` but the catalogue in force is `{}`",
                doc.catalogue, catalogue.version
            ),
        });
    }
}

fn check_grades(grades: &[Grade], issues: &mut Vec<ModelIssue>) {
    let mut push = |path: String, message: String| issues.push(ModelIssue { path, message });
    if grades.is_empty() {
        push(
            "grades".into(),
            "at least one grade band is required".into(),
        );
        return;
    }
    let mut codes = BTreeSet::new();
    for (i, g) in grades.iter().enumerate() {
        if g.min > g.max || g.min < 0 || g.max > 1000 {
            push(
                format!("grades[{i}]"),
                format!(
                    "band {}–{} must lie within 0–1000 with min ≤ max",
                    g.min, g.max
                ),
            );
        }
        if !codes.insert(&g.grade) {
            push(
                format!("grades[{i}].grade"),
                format!("duplicate grade `{}`", g.grade),
            );
        }
    }
    let mut order: Vec<usize> = (0..grades.len()).collect();
    order.sort_by_key(|&i| grades[i].min);
    let mut expected = 0;
    for &i in &order {
        let g = &grades[i];
        if g.min > expected {
            push(
                format!("grades[{i}]"),
                format!("gap: no grade covers {expected}–{}", g.min - 1),
            );
        } else if g.min < expected {
            push(
                format!("grades[{i}]"),
                format!(
                    "band {}–{} overlaps another band below {expected}",
                    g.min, g.max
                ),
            );
        }
        expected = expected.max(g.max + 1);
    }
    if expected <= 1000 {
        push(
            "grades".into(),
            format!("gap: no grade covers {expected}–1000"),
        );
    }
}

fn check_rule(path: &str, rule: &Rule, catalogue: &Catalogue, issues: &mut Vec<ModelIssue>) {
    let mut push = |sub: &str, message: String| {
        issues.push(ModelIssue {
            path: format!("{path}{sub}"),
            message,
        });
    };
    let (item_code, cap, window) = match rule {
        Rule::LatestBanded {
            item, window_years, ..
        } => (item, 0, Some(*window_years)),
        Rule::CommitmentsActive { item, cap, .. } => (item, *cap, None),
        Rule::CommitmentsFulfilled {
            item,
            cap,
            window_years,
            ..
        }
        | Rule::CommitmentBreaches {
            item,
            cap,
            window_years,
            ..
        }
        | Rule::ByLevel {
            item,
            cap,
            window_years,
            ..
        }
        | Rule::SumSteps {
            item,
            cap,
            window_years,
            ..
        }
        | Rule::Count {
            item,
            cap,
            window_years,
            ..
        } => (item, *cap, Some(*window_years)),
        Rule::InPublicity { item, cap, .. } | Rule::Listed { item, cap, .. } => (item, *cap, None),
    };
    if cap < 0 {
        push(
            ".cap",
            format!("cap {cap} must not be negative (it bounds the total either way)"),
        );
    }
    if window.is_some_and(|w| w <= 0) {
        push(".window_years", "must be at least 1".into());
    }
    let Some(item) = catalogue.item(item_code) else {
        push(".item", format!("unknown catalogue item `{item_code}`"));
        return;
    };
    let mut field = |sub: &str, name: &str, allowed: &[FieldType]| -> Option<usize> {
        match item.field_index(name) {
            None => {
                push(sub, format!("item {} has no field `{name}`", item.code));
                None
            }
            Some(i) if !allowed.contains(&item.fields[i].ty) => {
                push(
                    sub,
                    format!(
                        "field `{name}` of {} has the wrong type for this rule",
                        item.code
                    ),
                );
                None
            }
            Some(i) => Some(i),
        }
    };
    match rule {
        Rule::LatestBanded {
            field: f, bands, ..
        } => {
            field(".field", f, &[FieldType::Int, FieldType::Decimal]);
            let mut sorted: Vec<&Band> = bands.iter().collect();
            sorted.sort_by_key(|b| b.min);
            for w in sorted.windows(2) {
                if w[1].min <= w[0].max {
                    push(
                        ".bands",
                        format!(
                            "bands {}–{} and {}–{} overlap",
                            w[0].min, w[0].max, w[1].min, w[1].max
                        ),
                    );
                }
            }
            if bands.iter().any(|b| b.min > b.max) {
                push(".bands", "a band has min greater than max".into());
            }
        }
        Rule::CommitmentsActive { .. }
        | Rule::CommitmentsFulfilled { .. }
        | Rule::CommitmentBreaches { .. } => {
            if !item.fields.iter().any(|f| f.ty == FieldType::Template) {
                push(
                    ".item",
                    format!("item {} is not a commitment (no template field)", item.code),
                );
            }
        }
        Rule::InPublicity {
            field: f, levels, ..
        } => {
            if let Some(i) = field(".field", f, &[FieldType::Enum, FieldType::String]) {
                check_levels(".levels", levels.keys(), &item.fields[i].values, &mut push);
            }
            for (name, l) in levels {
                if l.months <= 0 {
                    push(
                        &format!(".levels.{name}.months"),
                        "must be at least 1".into(),
                    );
                }
            }
        }
        Rule::Listed {
            start_field,
            end_field,
            ceiling,
            ..
        } => {
            field(".start_field", start_field, &[FieldType::Date]);
            if let Some(e) = end_field {
                field(".end_field", e, &[FieldType::Date]);
            }
            if ceiling.is_some_and(|c| !(0..=1000).contains(&c)) {
                push(".ceiling", "must lie within 0–1000".into());
            }
        }
        Rule::ByLevel {
            field: f, points, ..
        } => {
            if let Some(i) = field(".field", f, &[FieldType::Enum, FieldType::String]) {
                check_levels(".points", points.keys(), &item.fields[i].values, &mut push);
            }
        }
        Rule::SumSteps { field: f, step, .. } => {
            field(".field", f, &[FieldType::Int, FieldType::Decimal]);
            if *step <= Decimal::ZERO {
                push(".step", "must be greater than zero".into());
            }
        }
        Rule::Count { .. } => {}
    }
}

fn check_levels<'a>(
    sub: &str,
    keys: impl Iterator<Item = &'a String>,
    allowed: &[String],
    push: &mut impl FnMut(&str, String),
) {
    if allowed.is_empty() {
        return;
    }
    for k in keys {
        if !allowed.contains(k) {
            push(sub, format!("`{k}` is not one of {}", allowed.join(", ")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> Catalogue {
        Catalogue::builtin()
    }

    #[test]
    fn builtin_model_is_valid_and_hash_is_stable() {
        let m = Model::builtin(&cat());
        assert_eq!(m.version(), "2026.1");
        assert_eq!(m.doc.indicators.len(), 10);
        assert_eq!(m.hash.len(), 64);
        // Formatting does not change the content hash.
        let reformatted =
            DEFAULT_MODEL.replace("name_en = \"Excellent\"", "name_en   =   \"Excellent\"");
        assert_eq!(Model::parse(&reformatted, &cat()).unwrap().hash, m.hash);
        let changed = DEFAULT_MODEL.replace("points_each = 5", "points_each = 6");
        assert_ne!(Model::parse(&changed, &cat()).unwrap().hash, m.hash);
    }

    #[test]
    fn every_error_is_reported_with_its_path() {
        let bad = DEFAULT_MODEL
            .replace("min = 700\nmax = 749", "min = 690\nmax = 749")
            .replace("min = 550\nmax = 599", "min = 560\nmax = 599")
            .replace("points_each = 5\ncap = 20", "points_each = 5\ncap = -20")
            .replace("kind = \"count\"", "kind = \"lottery\"")
            .replace("item = \"O03\"", "item = \"Z99\"");
        let errs = Model::parse(&bad, &cat()).unwrap_err().0;
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        let text = errs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(paths.contains(&"grades[1]"), "{text}"); // overlap 690 with A
        assert!(paths.contains(&"grades[3]"), "{text}"); // gap 550–559
        assert!(paths.contains(&"indicators[1].cap"), "{text}");
        assert!(paths.contains(&"indicators[9]"), "{text}");
        assert!(text.contains("lottery"), "{text}");
        assert!(paths.contains(&"indicators[8].item"), "{text}");
        assert!(text.contains("Z99"), "{text}");
        assert_eq!(errs.len(), 5, "{text}");
    }

    #[test]
    fn other_numbers_load_without_recompiling() {
        let m2 = DEFAULT_MODEL
            .replace("version = \"2026.1\"", "version = \"2027.1\"")
            .replace("points_each = -150", "points_each = -100")
            .replace("ceiling = 549", "ceiling = 599");
        let m = Model::parse(&m2, &cat()).unwrap();
        assert_eq!(m.version(), "2027.1");
    }
}
