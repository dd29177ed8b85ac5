//! The catalogue and the commitment templates as the agency's versioned data
//! (第十一条: compiled by the agency with the units, updated regularly).
//!
//! A version is a TOML file, read like a score model: every problem is
//! reported with its path (`items[3].fields[1].values`), not just the first.
//! Whether a version may follow the one in force (the records stored, the
//! model in force) is for the jobs to check; the rules here are the file's
//! own, the templates' fit to a catalogue, and what a successor may change.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{sanity, Catalogue, FieldType, Item};
use crate::commitment::{Template, Templates};
use crate::model::ModelIssue as Issue;

/// Every problem found in a catalogue or templates file, or in its fit to
/// the data in force.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} error(s): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct DataErrors(pub Vec<Issue>);

/// A catalogue version as published.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogueDoc {
    /// The label, e.g. `2026.2`; score models name the catalogue by it.
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub items: Vec<Item>,
}

/// A commitment templates version as published.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TemplatesDoc {
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub templates: Vec<Template>,
}

#[derive(Deserialize)]
struct RawDoc {
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    items: Vec<toml::Table>,
    #[serde(default)]
    templates: Vec<toml::Table>,
}

/// Items whose fields the platform's own rules read, by name: the household
/// registration names people, the signature item carries commitments.
pub const RULE_ITEMS: [&str; 2] = [crate::record::NAMING_ITEM, "C01"];

fn issue(issues: &mut Vec<Issue>, path: impl Into<String>, message: impl Into<String>) {
    issues.push(Issue {
        path: path.into(),
        message: message.into(),
    });
}

/// SHA-256 (hex) of a document's canonical JSON.
fn hash_of<T: Serialize>(doc: &T) -> String {
    hex::encode(Sha256::digest(serde_json::to_vec(doc).unwrap_or_default()))
}

/// Reads the top level and each table of `name`, reporting the tables that
/// do not fit (and unknown keys in those that do) by path.
fn read<T: serde::de::DeserializeOwned + Serialize>(
    text: &str,
    name: &str,
    issues: &mut Vec<Issue>,
) -> Result<(RawDoc, Vec<(usize, T)>), DataErrors> {
    let file_error = |m: String| {
        DataErrors(vec![Issue {
            path: "(file)".into(),
            message: m,
        }])
    };
    let table: toml::Table = toml::from_str(text).map_err(|e| file_error(e.to_string()))?;
    let mut raw = RawDoc::deserialize(toml::Value::Table(table.clone()))
        .map_err(|e| file_error(e.message().to_owned()))?;
    for key in table.keys() {
        if !["version", "description", name].contains(&key.as_str()) {
            issue(issues, key.clone(), "unknown key");
        }
    }
    if raw.version.trim().is_empty() {
        issue(issues, "version", "must not be empty");
    }
    let tables = std::mem::take(if name == "items" {
        &mut raw.items
    } else {
        &mut raw.templates
    });
    if tables.is_empty() {
        issue(issues, name, "at least one is required");
    }
    let mut out = Vec::new();
    for (i, table) in tables.into_iter().enumerate() {
        let path = format!("{name}[{i}]");
        let value = toml::Value::Table(table);
        match T::deserialize(value.clone()) {
            Ok(t) => {
                let known = serde_json::to_value(&t).unwrap_or_default();
                crate::model::unknown_keys(&path, &value, &known, issues);
                out.push((i, t));
            }
            Err(e) => {
                let code = value.get("code").and_then(|c| c.as_str()).unwrap_or("?");
                issue(issues, path, format!("({code}) {}", e.message()));
            }
        }
    }
    Ok((raw, out))
}

fn is_code(s: &str, first: impl Fn(char) -> bool, digits: std::ops::RangeInclusive<usize>) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(first)
        && digits.contains(&chars.clone().count())
        && chars.all(|c| c.is_ascii_digit())
}

fn is_field_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The rules of one item's schema, each problem under `path`.
fn check_item(path: &str, item: &Item, issues: &mut Vec<Issue>) {
    if !is_code(&item.code, |c| c.is_ascii_uppercase(), 2..=2) {
        issue(
            issues,
            format!("{path}.code"),
            format!("`{}` must be a letter and two digits, e.g. O05", item.code),
        );
    }
    for (name, text) in [("name_zh", &item.name_zh), ("name_en", &item.name_en)] {
        if text.trim().is_empty() {
            issue(issues, format!("{path}.{name}"), "must not be empty");
        }
    }
    if item.responsible.is_empty() || item.responsible.iter().any(|r| r.trim().is_empty()) {
        issue(
            issues,
            format!("{path}.responsible"),
            "name at least one responsible unit, none empty",
        );
    }
    if !item.fields.iter().any(|f| f.ty == FieldType::Date) {
        issue(
            issues,
            format!("{path}.fields"),
            "at least one date field is required (the first dates the record)",
        );
    }
    let mut names = BTreeSet::new();
    for (j, f) in item.fields.iter().enumerate() {
        let fp = format!("{path}.fields[{j}]");
        if !is_field_name(&f.name) {
            issue(
                issues,
                format!("{fp}.name"),
                format!("`{}` must be lowercase letters, digits and _", f.name),
            );
        }
        if !names.insert(f.name.as_str()) {
            issue(
                issues,
                format!("{fp}.name"),
                format!("duplicate field `{}`", f.name),
            );
        }
        let numeric = matches!(f.ty, FieldType::Int | FieldType::Decimal);
        if (f.min.is_some() || f.max.is_some()) && !numeric {
            issue(
                issues,
                fp.clone(),
                "min and max apply to int and decimal fields only",
            );
        }
        if let (Some(lo), Some(hi)) = (f.min, f.max) {
            if lo > hi {
                issue(
                    issues,
                    format!("{fp}.min"),
                    format!("min {lo} exceeds max {hi}"),
                );
            }
        }
        match (f.ty == FieldType::Enum, f.values.is_empty()) {
            (true, true) => issue(issues, format!("{fp}.values"), "an enum needs values"),
            (false, false) => issue(
                issues,
                format!("{fp}.values"),
                "values apply to enum fields only",
            ),
            _ => {}
        }
        let mut seen = BTreeSet::new();
        if f.values
            .iter()
            .any(|v| v.trim().is_empty() || !seen.insert(v))
        {
            issue(
                issues,
                format!("{fp}.values"),
                "values must be distinct and not empty",
            );
        }
        if f.max_len.is_some() && f.ty != FieldType::String {
            issue(
                issues,
                format!("{fp}.max_len"),
                "max_len applies to string fields only",
            );
        }
        if f.max_len == Some(0) {
            issue(issues, format!("{fp}.max_len"), "must be at least 1");
        }
    }
    if item
        .fields
        .iter()
        .filter(|f| f.ty == FieldType::Template)
        .count()
        > 1
    {
        issue(
            issues,
            format!("{path}.fields"),
            "at most one template field",
        );
    }
    if let Err(e) = sanity::check_item(item) {
        issue(issues, format!("{path}.fields"), e);
    }
}

impl CatalogueDoc {
    /// Reads and checks a catalogue file: every problem, with its path.
    pub fn parse(text: &str) -> Result<CatalogueDoc, DataErrors> {
        let doc = CatalogueDoc::parse_shape(text)?;
        let mut issues = Vec::new();
        rule_items(&doc, &mut issues);
        if issues.is_empty() {
            Ok(doc)
        } else {
            Err(DataErrors(issues))
        }
    }

    /// [`CatalogueDoc::parse`] without the check against the shipped catalogue.
    pub(super) fn parse_shape(text: &str) -> Result<CatalogueDoc, DataErrors> {
        let mut issues = Vec::new();
        let (raw, items) = read::<Item>(text, "items", &mut issues)?;
        let mut codes = BTreeSet::new();
        for (i, item) in &items {
            let path = format!("items[{i}]");
            check_item(&path, item, &mut issues);
            if !codes.insert(item.code.as_str()) {
                issue(
                    &mut issues,
                    format!("{path}.code"),
                    format!("duplicate item `{}`", item.code),
                );
            }
        }
        let doc = CatalogueDoc {
            version: raw.version,
            description: raw.description,
            items: items.into_iter().map(|(_, it)| it).collect(),
        };
        if issues.is_empty() {
            Ok(doc)
        } else {
            Err(DataErrors(issues))
        }
    }

    /// SHA-256 (hex) of the document's canonical JSON.
    pub fn hash(&self) -> String {
        hash_of(self)
    }
}

/// The items in [`RULE_ITEMS`] keep every field the shipped catalogue gives
/// them, with its type: the platform's rules read them by name.
fn rule_items(doc: &CatalogueDoc, issues: &mut Vec<Issue>) {
    let shipped = Catalogue::builtin();
    for code in RULE_ITEMS {
        let Some(base) = shipped.item(code) else {
            continue;
        };
        let Some((i, item)) = doc.items.iter().enumerate().find(|(_, it)| it.code == code) else {
            issue(
                issues,
                "items",
                format!("item {code} is read by the platform's rules and may not be removed"),
            );
            continue;
        };
        for f in &base.fields {
            if !item.fields.iter().any(|g| g.name == f.name && g.ty == f.ty) {
                issue(
                    issues,
                    format!("items[{i}].fields"),
                    format!(
                        "item {code} must keep field `{}` ({:?}): the platform's rules read it",
                        f.name, f.ty
                    ),
                );
            }
        }
    }
}

impl TemplatesDoc {
    /// Reads and checks a templates file on its own: every problem, with its path.
    pub fn parse(text: &str) -> Result<TemplatesDoc, DataErrors> {
        let mut issues = Vec::new();
        let (raw, templates) = read::<Template>(text, "templates", &mut issues)?;
        let mut codes = BTreeSet::new();
        for (i, t) in &templates {
            let path = format!("templates[{i}]");
            if !is_code(&t.code, |c| c == 'T', 2..=3) {
                issue(
                    &mut issues,
                    format!("{path}.code"),
                    format!("`{}` must be T and two or three digits, e.g. T04", t.code),
                );
            }
            if !codes.insert(t.code.as_str()) {
                issue(
                    &mut issues,
                    format!("{path}.code"),
                    format!("duplicate template `{}`", t.code),
                );
            }
            for (name, text) in [
                ("title_zh", &t.title_zh),
                ("title_en", &t.title_en),
                ("text_zh", &t.text_zh),
                ("text_en", &t.text_en),
            ] {
                if text.trim().is_empty() {
                    issue(&mut issues, format!("{path}.{name}"), "must not be empty");
                }
            }
            if !(1..=120).contains(&t.term_months) {
                issue(
                    &mut issues,
                    format!("{path}.term_months"),
                    "must be 1 to 120 months",
                );
            }
            if t.monitors.is_empty() {
                issue(
                    &mut issues,
                    format!("{path}.monitors"),
                    "at least one is required",
                );
            }
        }
        let doc = TemplatesDoc {
            version: raw.version,
            description: raw.description,
            templates: templates.into_iter().map(|(_, t)| t).collect(),
        };
        if issues.is_empty() {
            Ok(doc)
        } else {
            Err(DataErrors(issues))
        }
    }

    /// SHA-256 (hex) of the document's canonical JSON.
    pub fn hash(&self) -> String {
        hash_of(self)
    }

    /// The templates it holds.
    pub fn templates(&self) -> Templates {
        Templates {
            templates: self.templates.clone(),
        }
    }
}

/// Each template's monitors name an item of `items` and, for each
/// condition, a field of it (with values an enum field allows).
pub fn templates_fit(templates: &Templates, items: &[Item]) -> Vec<Issue> {
    let mut issues = Vec::new();
    for (i, t) in templates.templates.iter().enumerate() {
        for (j, m) in t.monitors.iter().enumerate() {
            let path = format!("templates[{i}].monitors[{j}]");
            let Some(item) = items.iter().find(|it| it.code == m.item) else {
                issue(
                    &mut issues,
                    format!("{path}.item"),
                    format!(
                        "template {} monitors item {}, which the catalogue does not have",
                        t.code, m.item
                    ),
                );
                continue;
            };
            for (name, values) in &m.conditions {
                let Some(f) = item.fields.iter().find(|f| &f.name == name) else {
                    issue(
                        &mut issues,
                        format!("{path}.where.{name}"),
                        format!(
                            "template {} reads field `{name}`, which item {} does not have",
                            t.code, item.code
                        ),
                    );
                    continue;
                };
                if f.ty == FieldType::Enum {
                    for v in values.iter().filter(|v| !f.values.contains(v)) {
                        issue(
                            &mut issues,
                            format!("{path}.where.{name}"),
                            format!("`{v}` is not a value of {}.{name}", item.code),
                        );
                    }
                }
            }
        }
    }
    issues
}

/// What a templates version may change from the one in force: it keeps
/// every template (retire one with `retired = true`; its signatures stay
/// valid), and a template's term and monitors, which decide the signed
/// commitments' outcomes, stay as they were signed.
pub fn templates_successor(in_force: &Templates, next: &Templates) -> Vec<Issue> {
    let mut issues = Vec::new();
    for old in &in_force.templates {
        let Some((i, new)) = next
            .templates
            .iter()
            .enumerate()
            .find(|(_, t)| t.code == old.code)
        else {
            issue(
                &mut issues,
                "templates",
                format!(
                    "template {} may not be removed (residents signed under it); set `retired = true` to stop new signatures",
                    old.code
                ),
            );
            continue;
        };
        if new.term_months != old.term_months {
            issue(
                &mut issues,
                format!("templates[{i}].term_months"),
                format!("template {}'s term is {} months for those who signed it; add a new template instead", old.code, old.term_months),
            );
        }
        let monitors = |t: &Template| serde_json::to_value(&t.monitors).unwrap_or_default();
        if monitors(new) != monitors(old) {
            issue(
                &mut issues,
                format!("templates[{i}].monitors"),
                format!(
                    "template {}'s monitors decide signed commitments; add a new template instead",
                    old.code
                ),
            );
        }
    }
    issues
}

impl Catalogue {
    /// A catalogue from its documents; the templates must fit the items.
    /// `number` and `templates_number` are the stored versions (1: shipped);
    /// `lineage` the labels of earlier catalogue versions, whose score
    /// models still load if their indicators fit.
    pub fn assemble(
        doc: CatalogueDoc,
        templates: Templates,
        number: i64,
        templates_number: i64,
        lineage: Vec<String>,
    ) -> Result<Catalogue, DataErrors> {
        let issues = templates_fit(&templates, &doc.items);
        if !issues.is_empty() {
            return Err(DataErrors(issues));
        }
        let index = doc
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.code.clone(), i))
            .collect();
        Ok(Catalogue {
            version: doc.version,
            items: doc.items,
            templates,
            index,
            number,
            templates_number,
            lineage,
        })
    }

    /// The catalogue as a document, as it would be published.
    pub fn doc(&self) -> CatalogueDoc {
        CatalogueDoc {
            version: self.version.clone(),
            description: String::new(),
            items: self.items.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../data/catalogue/2026.1.toml");
    const TEMPLATES: &str = include_str!("../../data/templates/2026.1.toml");

    fn paths(e: DataErrors) -> Vec<String> {
        e.0.into_iter().map(|i| i.path).collect()
    }

    #[test]
    fn shipped_files_parse() {
        let doc = CatalogueDoc::parse(SHIPPED).unwrap();
        assert_eq!(doc.items.len(), 11);
        let t = TemplatesDoc::parse(TEMPLATES).unwrap();
        assert!(templates_fit(&t.templates(), &doc.items).is_empty());
        assert!(templates_successor(&t.templates(), &t.templates()).is_empty());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let bad = SHIPPED
            .replacen("code = \"B01\"", "code = \"b1\"", 1)
            .replacen(
                "values = [\"full\", \"limited\", \"none\"]",
                "values = []",
                1,
            )
            .replacen("name_en = \"honour\"", "name_en = \"\"\ncolour = 1", 1)
            .replacen(
                "\"not_before\" = \"listed_on\"",
                "\"not_before\" = \"list_type\"",
                1,
            )
            .replacen(
                "not_before = \"listed_on\"",
                "not_before = \"list_type\"",
                1,
            );
        let p = paths(CatalogueDoc::parse(&bad).unwrap_err());
        for want in [
            "items[0].code",
            "items[1].fields[0].values",
            "items[7].name_en",
            "items[7].colour",
            "items[6].fields",
        ] {
            assert!(p.iter().any(|x| x == want), "{want} missing from {p:?}");
        }
    }

    #[test]
    fn rule_items_and_templates_are_kept() {
        let no_c01 = SHIPPED.replacen("name = \"text_sha256\"", "name = \"digest\"", 1);
        let e = CatalogueDoc::parse(&no_c01).unwrap_err();
        assert!(e.0.iter().any(|i| i.message.contains("text_sha256")), "{e}");
        let t = TemplatesDoc::parse(TEMPLATES).unwrap().templates();
        let mut next = t.clone();
        next.templates.remove(2);
        next.templates[0].term_months = 24;
        let p: Vec<_> = templates_successor(&t, &next)
            .into_iter()
            .map(|i| i.path)
            .collect();
        assert_eq!(p, ["templates[0].term_months", "templates"]);
        let mut retired = t.clone();
        retired.templates[2].retired = true;
        assert!(templates_successor(&t, &retired).is_empty());
    }
}

#[cfg(test)]
mod examples {
    use super::*;

    #[test]
    fn the_example_next_versions_are_valid_successors() {
        let doc =
            CatalogueDoc::parse(include_str!("../../data/catalogue/example-2026.2.toml")).unwrap();
        assert_eq!(doc.items.last().map(|i| i.code.as_str()), Some("O05"));
        let shipped = Catalogue::builtin();
        let next = TemplatesDoc::parse(include_str!("../../data/templates/example-2026.2.toml"))
            .unwrap()
            .templates();
        assert!(templates_fit(&next, &doc.items).is_empty());
        assert!(templates_successor(&shipped.templates, &next).is_empty());
        assert!(next.get("T03").unwrap().retired);
    }
}
