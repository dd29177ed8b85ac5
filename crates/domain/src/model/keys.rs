//! Unknown-key detection for model files: every key the file has must be one
//! the typed document reads back, so a typo cannot silently change scores.

use super::ModelIssue;

/// Reports each key of `input` that `known` (the typed value serialized back)
/// does not have, recursing into tables and arrays, with its full path
/// (`indicators[5].ceilng`, `indicators[0].bands[2].pionts`).
///
/// Optional keys the document leaves out are absent from `known` too, which
/// is right: such a key is absent from `input` as well, or it would have been read.
pub(crate) fn unknown_keys(
    path: &str,
    input: &toml::Value,
    known: &serde_json::Value,
    issues: &mut Vec<ModelIssue>,
) {
    match (input, known) {
        (toml::Value::Table(table), serde_json::Value::Object(object)) => {
            for (key, value) in table {
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match object.get(key) {
                    None => issues.push(ModelIssue {
                        path: sub,
                        message: "unknown key".into(),
                    }),
                    Some(known) => unknown_keys(&sub, value, known, issues),
                }
            }
        }
        (toml::Value::Array(items), serde_json::Value::Array(known)) => {
            for (i, (item, known)) in items.iter().zip(known).enumerate() {
                unknown_keys(&format!("{path}[{i}]"), item, known, issues);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_nested_paths_and_accepts_known_keys() {
        let input: toml::Value =
            toml::from_str("a = 1\nb = [{ c = 1, d = 2 }, { c = 1 }]\n[e]\nf = 1\ng = { h = 1 }\n")
                .unwrap();
        let known = serde_json::json!({
            "a": 1, "b": [{ "c": 1 }, { "c": 1 }], "e": { "f": 1, "g": {} }
        });
        let mut issues = Vec::new();
        unknown_keys("", &input, &known, &mut issues);
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["b[0].d", "e.g.h"]);
    }
}
