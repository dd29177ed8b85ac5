//! The rules a parsed model must follow beyond its shape: header, grade
//! bands that tile 0–1000, and each indicator's rule against the catalogue.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

use super::{bands, Band, Grade, ModelDoc, ModelIssue, Rule};
use crate::catalogue::{Catalogue, FieldType};
use crate::engine::MAX_SCORE;

/// The version is set and the model is for the catalogue in force.
pub(super) fn check_header(doc: &ModelDoc, catalogue: &Catalogue, issues: &mut Vec<ModelIssue>) {
    if doc.version.trim().is_empty() {
        issues.push(ModelIssue {
            path: "version".into(),
            message: "must not be empty".into(),
        });
    }
    if doc.catalogue != catalogue.version && !catalogue.lineage.contains(&doc.catalogue) {
        issues.push(ModelIssue {
            path: "catalogue".into(),
            message: format!(
                "model is for catalogue `{}` but the catalogue in force is `{}`",
                doc.catalogue, catalogue.version
            ),
        });
    }
}

/// Grade bands lie in 0–[`MAX_SCORE`], with no gap, overlap or duplicate.
pub(super) fn check_grades(grades: &[Grade], issues: &mut Vec<ModelIssue>) {
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
        if g.min > g.max || g.min < 0 || g.max > MAX_SCORE {
            push(
                format!("grades[{i}]"),
                format!(
                    "band {}–{} must lie within 0–{MAX_SCORE} with min ≤ max",
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
    if expected <= MAX_SCORE {
        push(
            "grades".into(),
            format!("gap: no grade covers {expected}–{MAX_SCORE}"),
        );
    }
}

/// One indicator's rule: its cap and window, and its item and fields
/// against the catalogue (bands, levels, dates).
pub(super) fn check_rule(
    path: &str,
    rule: &Rule,
    catalogue: &Catalogue,
    issues: &mut Vec<ModelIssue>,
) {
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
            field: f,
            bands,
            gap_points,
            ..
        } => {
            let spec =
                field(".field", f, &[FieldType::Int, FieldType::Decimal]).map(|i| &item.fields[i]);
            if let (Some(spec), None) = (spec, gap_points) {
                for gap in bands::gaps(bands, spec) {
                    push(
                        ".bands",
                        format!(
                            "gap: no band covers {gap} of {}.{}; add a band or set `gap_points`",
                            item.code, spec.name
                        ),
                    );
                }
            }
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
            if ceiling.is_some_and(|c| !(0..=MAX_SCORE).contains(&c)) {
                push(".ceiling", format!("must lie within 0–{MAX_SCORE}"));
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
