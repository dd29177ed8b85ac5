//! Score models as versioned data: the file format (TOML), validation that
//! reports every error with its path (unknown keys included), placeholders in
//! indicator texts, and compilation against a catalogue.

mod bands;
mod checks;
pub mod diff;
mod keys;
pub(crate) use keys::unknown_keys;
mod placeholders;

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalogue::{Catalogue, Category};

/// A bilingual explanation text with a stable code.
///
/// The model's types accept unknown keys when deserialized; [`Model::parse`]
/// finds them afterwards so that it can name each one with its full path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub code: String,
    pub zh: String,
    pub en: String,
}

/// One grade band, inclusive on both ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grade {
    pub grade: String,
    pub min: i32,
    pub max: i32,
    pub name_zh: String,
    pub name_en: String,
}

/// A value band of a `latest_banded` indicator, inclusive on both ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub min: Decimal,
    pub max: Decimal,
    pub points: i32,
}

/// Points and publicity period of one penalty level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
        /// Points for a value no band covers; without it the bands must cover
        /// the field's whole declared range.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gap_points: Option<i32>,
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

/// Top-level shape, read first so that each grade's and indicator's errors
/// are reported separately.
#[derive(Deserialize)]
struct RawDoc {
    version: String,
    catalogue: String,
    #[serde(default)]
    description: String,
    grades: Vec<toml::Table>,
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

    /// Parses and validates a TOML model against the catalogue. Placeholders
    /// in indicator texts are filled in here, so the document (and its hash)
    /// holds the texts as shown.
    pub fn parse(text: &str, catalogue: &Catalogue) -> Result<Model, ModelErrors> {
        let file_error = |e: &dyn std::fmt::Display| {
            ModelErrors(vec![ModelIssue {
                path: "(file)".into(),
                message: e.to_string(),
            }])
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| file_error(&e))?;
        let raw = RawDoc::deserialize(toml::Value::Table(table.clone()))
            .map_err(|e| file_error(&e.message()))?;
        let mut issues = Vec::new();
        let grade_count = raw.grades.len();
        let grades: Vec<(usize, Grade)> = parse_all("grades", raw.grades, &mut issues);
        let mut indicators: Vec<(usize, Indicator)> =
            parse_all("indicators", raw.indicators, &mut issues);
        let doc = ModelDoc {
            version: raw.version,
            catalogue: raw.catalogue,
            description: raw.description,
            grades: grades.iter().map(|(_, g)| g.clone()).collect(),
            indicators: Vec::new(),
        };
        let header = serde_json::to_value(ModelDoc {
            grades: Vec::new(),
            ..doc.clone()
        })
        .unwrap_or_default();
        keys::unknown_keys("", &toml::Value::Table(table), &header, &mut issues);
        checks::check_header(&doc, catalogue, &mut issues);
        // A grade that could not be read would show up as a gap as well.
        if grades.len() == grade_count {
            checks::check_grades(&doc.grades, &mut issues);
        }
        let mut seen = BTreeSet::new();
        for (i, ind) in &mut indicators {
            let path = format!("indicators[{i}]");
            if !seen.insert(ind.code.clone()) {
                issues.push(ModelIssue {
                    path: path.clone(),
                    message: format!("duplicate indicator code `{}`", ind.code),
                });
            }
            checks::check_rule(&path, &ind.rule, catalogue, &mut issues);
            placeholders::render_indicator(&path, ind, &mut issues);
        }
        if !issues.is_empty() {
            issues.sort_by_key(|i| path_order(&i.path));
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

/// Deserializes each table of the array `name`, reporting a table that does
/// not fit as `name[i]` (with its code or grade, if it has one) and each
/// unknown key inside one that does. Returns the good ones with their index.
fn parse_all<T: serde::de::DeserializeOwned + Serialize>(
    name: &str,
    tables: Vec<toml::Table>,
    issues: &mut Vec<ModelIssue>,
) -> Vec<(usize, T)> {
    let mut out = Vec::new();
    for (i, table) in tables.into_iter().enumerate() {
        let path = format!("{name}[{i}]");
        let value = toml::Value::Table(table);
        match T::deserialize(value.clone()) {
            Ok(t) => {
                let known = serde_json::to_value(&t).unwrap_or_default();
                keys::unknown_keys(&path, &value, &known, issues);
                out.push((i, t));
            }
            Err(e) => {
                let code = value
                    .get("code")
                    .or_else(|| value.get("grade"))
                    .and_then(|c| c.as_str())
                    .unwrap_or("?");
                issues.push(ModelIssue {
                    path,
                    message: format!("({code}) {}", e.message()),
                });
            }
        }
    }
    out
}

/// Sorts issues by where they are in the file: header, grades, indicators,
/// each array by index (so `indicators[10]` follows `indicators[9]`).
fn path_order(path: &str) -> (u8, usize) {
    let section = if path.starts_with("grades") {
        1
    } else if path.starts_with("indicators") {
        2
    } else {
        0
    };
    let index = path
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0);
    (section, index)
}

/// The default model file's text.
pub const DEFAULT_MODEL: &str = include_str!("../../../models/2026.1.toml");

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

    fn errors(text: &str) -> Vec<String> {
        let errs = Model::parse(text, &cat()).unwrap_err().0;
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_typo_in_a_key_is_an_error_naming_its_path() {
        let typo = DEFAULT_MODEL.replace("ceiling = 549", "ceilng = 599");
        assert_eq!(errors(&typo), ["indicators[5].ceilng: unknown key"]);
    }

    #[test]
    fn unknown_keys_in_nested_tables_grades_and_the_top_level_are_all_reported() {
        let bad = DEFAULT_MODEL
            .replace(
                "version = \"2026.1\"",
                "version = \"2026.1\"\nversoin = \"x\"",
            )
            .replace(
                "name_en = \"Excellent\"",
                "name_en = \"Excellent\"\nname_fr = \"x\"",
            )
            .replace(
                "{ min = 750, max = 799, points = 570 }",
                "{ min = 750, max = 799, points = 570, note = \"x\" }",
            )
            .replace("months = 12 }", "months = 12, monts = 6 }")
            .replace(
                "{ code = \"PROVINCIAL_EVALUATION_BELOW_TOP\",",
                "{ code = \"PROVINCIAL_EVALUATION_BELOW_TOP\", eng = \"x\",",
            );
        assert_eq!(
            errors(&bad),
            [
                "versoin: unknown key",
                "grades[0].name_fr: unknown key",
                "indicators[0].bands[2].note: unknown key",
                "indicators[0].factor.eng: unknown key",
                "indicators[4].levels.general.monts: unknown key",
            ]
        );
    }

    #[test]
    fn a_band_gap_is_an_error_unless_gap_points_says_what_it_scores() {
        let gap = DEFAULT_MODEL.replace(
            "{ min = 800, max = 849, points = 600 }",
            "{ min = 810, max = 849, points = 600 }",
        );
        let e = errors(&gap);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("indicators[0].bands: gap: no band covers 800–809 of B01.score"),
            "{e:?}"
        );
        let edges = DEFAULT_MODEL
            .replace("{ min = 850, max = 1000,", "{ min = 850, max = 990,")
            .replace("{ min = 0, max = 599,", "{ min = 1, max = 599,");
        let e = errors(&edges).join("\n");
        assert!(e.contains("covers 0 of B01.score"), "{e}");
        assert!(e.contains("covers 991–1000 of B01.score"), "{e}");
        let allowed = gap.replace(
            "missing_points = 600",
            "missing_points = 600\ngap_points = 590",
        );
        let m = Model::parse(&allowed, &cat()).unwrap();
        assert!(matches!(
            m.doc.indicators[0].rule,
            Rule::LatestBanded {
                gap_points: Some(590),
                ..
            }
        ));
    }

    #[test]
    fn placeholders_render_the_2026_1_texts_and_keep_its_hash() {
        let m = Model::builtin(&cat());
        let literal = DEFAULT_MODEL
            .replace("{top_band_min}", "850")
            .replace("近{window_years_zh}年没有", "近两年没有")
            .replace("in the last {window_years_en} years\" }\n\n[[indicators]]\ncode = \"commitments_signed\"", "in the last two years\" }\n\n[[indicators]]\ncode = \"commitments_signed\"")
            .replace("近{window_years_zh}年获得", "近五年获得")
            .replace("honours in the last {window_years_en} years", "honours in the last five years")
            .replace("{window_years_zh}", "三")
            .replace("{window_years_en}", "three");
        let (_, body) = literal.split_once("[[grades]]").unwrap();
        assert!(
            body.match_indices('{')
                .all(|(i, _)| body[i + 1..].starts_with(' ')),
            "a placeholder is left: {body}"
        );
        let plain = Model::parse(&literal, &cat()).unwrap();
        assert_eq!(plain.doc, m.doc);
        // The hash stored with every 2026.1 score since the model shipped.
        assert_eq!(
            m.hash,
            "9ec80ec0713b1d52085557212444dc5b7b0eeec5f26025d56bf0125002441b34"
        );
        assert_eq!(plain.hash, m.hash);
        let p = &m.doc.indicators[0];
        assert_eq!(p.factor.zh, "省公共信用评价未达到最高档（850分及以上）");
        assert_eq!(
            p.factor.en,
            "The provincial credit evaluation is below the top band (850 or more)"
        );
        let Rule::LatestBanded {
            missing_factor: Some(missing),
            ..
        } = &p.rule
        else {
            panic!("provincial_evaluation is latest_banded with a missing_factor");
        };
        assert_eq!(missing.zh, "近两年没有省公共信用评价结果");
        assert_eq!(
            m.doc.indicators[6].factor.en,
            "Few honours in the last five years"
        );
        // A text follows its number: a top band from 900 says 900.
        let moved = DEFAULT_MODEL
            .replace("{ min = 850, max = 1000,", "{ min = 900, max = 1000,")
            .replace("{ min = 800, max = 849,", "{ min = 800, max = 899,")
            .replace("window_years = 5", "window_years = 4");
        let m = Model::parse(&moved, &cat()).unwrap();
        assert!(m.doc.indicators[0].factor.zh.contains("（900分及以上）"));
        assert_eq!(m.doc.indicators[6].factor.zh, "近四年获得的荣誉较少");
    }

    #[test]
    fn an_unknown_placeholder_is_an_error_naming_its_text() {
        let bad = DEFAULT_MODEL.replace(
            "zh = \"被列入严重失信名单\"",
            "zh = \"被列入严重失信名单（{ceilng}分封顶）\"",
        );
        let e = errors(&bad);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("indicators[5].factor.zh: unknown placeholder `{ceilng}`"),
            "{e:?}"
        );
        assert!(e[0].contains("{ceiling}"), "{e:?}");
        // A placeholder of another kind is unknown here too.
        let bad = DEFAULT_MODEL.replace(
            "有效期内的信用承诺较少",
            "近{window_years_zh}年的信用承诺较少",
        );
        assert!(errors(&bad)[0].starts_with("indicators[1].factor.zh: unknown placeholder"));
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
