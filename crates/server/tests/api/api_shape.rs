//! Incentive only, by the API's shape (第十八条, issue 10 item 6): walking
//! every operation of the served OpenAPI document, none lists, exports,
//! ranks or filters residents by score or grade, and no party or government
//! operation (`/party/…`) returns more than one resident or takes an ID
//! number. The checks are structural over the schemas (`$ref`s resolved,
//! `allOf`/`oneOf`/`anyOf` merged); a synthetic document with violating
//! operations proves each check catches what it should.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, on_each_backend};

/// Properties that identify a person.
const PERSON_KEYS: [&str; 7] = [
    "id_number",
    "name",
    "person",
    "person_id",
    "resident",
    "resident_id",
    "subject",
];

/// Words that make a parameter a score or grade filter, sort or ranking.
const FILTER_WORDS: [&str; 9] = [
    "score",
    "grade",
    "rank",
    "sort",
    "order",
    "诚信分",
    "等级",
    "排名",
    "排序",
];

/// What a walk found.
#[derive(Debug, Default)]
struct Report {
    violations: Vec<String>,
    operations: usize,
    arrays: usize,
}

/// Follows a local `$ref` (`#/components/schemas/X`).
fn resolve<'a>(doc: &'a Value, mut s: &'a Value, seen: &mut Vec<String>) -> Option<&'a Value> {
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        if seen.iter().any(|x| x == r) {
            return None; // a cycle: already being walked
        }
        seen.push(r.to_owned());
        s = doc.pointer(r.strip_prefix('#')?)?;
    }
    Some(s)
}

/// The property names an object schema can carry, its compositions merged.
fn property_names(doc: &Value, s: &Value, seen: &mut Vec<String>, out: &mut BTreeSet<String>) {
    let depth = seen.len();
    if let Some(s) = resolve(doc, s, seen) {
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            out.extend(props.keys().cloned());
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for part in s.get(key).and_then(Value::as_array).into_iter().flatten() {
                property_names(doc, part, seen, out);
            }
        }
    }
    seen.truncate(depth);
}

fn carries_score(names: &BTreeSet<String>) -> bool {
    names
        .iter()
        .any(|n| n.contains("score") || n.contains("grade"))
}

fn carries_person(names: &BTreeSet<String>) -> bool {
    names.iter().any(|n| PERSON_KEYS.contains(&n.as_str()))
}

/// Walks a response schema: every array whose items are objects is judged.
fn walk(
    doc: &Value,
    s: &Value,
    op: &str,
    own: bool,
    party: bool,
    seen: &mut Vec<String>,
    r: &mut Report,
) {
    let depth = seen.len();
    let Some(s) = resolve(doc, s, seen) else {
        seen.truncate(depth);
        return;
    };
    if let Some(items) = s.get("items") {
        r.arrays += 1;
        let mut names = BTreeSet::new();
        property_names(doc, items, &mut seen.clone(), &mut names);
        if carries_person(&names) && carries_score(&names) && !own {
            r.violations.push(format!(
                "{op}: returns a list of residents with their score or grade ({names:?})"
            ));
        }
        if carries_person(&names) && party {
            r.violations.push(format!(
                "{op}: a party operation returns more than one resident ({names:?})"
            ));
        }
        walk(doc, items, op, own, party, seen, r);
    }
    for key in ["properties", "patternProperties"] {
        for v in s
            .get(key)
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.values())
        {
            walk(doc, v, op, own, party, seen, r);
        }
    }
    if let Some(v) = s.get("additionalProperties").filter(|v| v.is_object()) {
        walk(doc, v, op, own, party, seen, r);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for part in s.get(key).and_then(Value::as_array).into_iter().flatten() {
            walk(doc, part, op, own, party, seen, r);
        }
    }
    seen.truncate(depth);
}

/// Every check over every operation of `doc`.
fn check(doc: &Value) -> Report {
    let mut r = Report::default();
    let Some(paths) = doc["paths"].as_object() else {
        r.violations.push("the document has no paths".into());
        return r;
    };
    for (path, item) in paths {
        let own = path == "/api/v1/me" || path.starts_with("/api/v1/me/");
        let party = path.starts_with("/api/v1/party/") || path.starts_with("/party/");
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            r.operations += 1;
            let name = format!("{} {path}", method.to_uppercase());
            // An operation addressed to one object (a path parameter) that
            // answers without any list cannot pick residents out of many: its
            // parameters choose what to say about that one object (e.g. which
            // granted answer a party asks for), so they are not filters.
            let arrays_before = r.arrays;
            responses_of(doc, op, &name, own, party, &mut r);
            let single = path.contains('{') && r.arrays == arrays_before;
            let params = item["parameters"].as_array().into_iter().flatten();
            for p in params.chain(op["parameters"].as_array().into_iter().flatten()) {
                let Some(p) = resolve(doc, p, &mut Vec::new()) else {
                    continue;
                };
                let pname = p["name"].as_str().unwrap_or_default().to_lowercase();
                let text = format!(
                    "{pname} {}",
                    p["description"].as_str().unwrap_or_default().to_lowercase()
                );
                let filter_word = FILTER_WORDS.iter().find(|w| text.contains(*w));
                if let Some(w) = filter_word.filter(|_| !single) {
                    r.violations.push(format!(
                        "{name}: parameter `{pname}` filters, sorts or ranks by `{w}`"
                    ));
                }
                if party && pname.contains("id_number") {
                    r.violations
                        .push(format!("{name}: a party operation takes an ID number"));
                }
            }
            if party {
                for content in op["requestBody"]["content"]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    let mut names = BTreeSet::new();
                    property_names(doc, &content["schema"], &mut Vec::new(), &mut names);
                    if names.contains("id_number") {
                        r.violations
                            .push(format!("{name}: a party operation takes an ID number"));
                    }
                }
            }
        }
    }
    r
}

/// Walks the 2xx response schemas of one operation.
fn responses_of(doc: &Value, op: &Value, name: &str, own: bool, party: bool, r: &mut Report) {
    let responses = op["responses"].as_object().into_iter().flatten();
    for (status, res) in responses.filter(|(s, _)| s.starts_with('2')) {
        let Some(res) = resolve(doc, res, &mut Vec::new()) else {
            continue;
        };
        for content in res["content"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            let op_name = format!("{name} → {status}");
            walk(
                doc,
                &content["schema"],
                &op_name,
                own,
                party,
                &mut Vec::new(),
                r,
            );
        }
    }
}

#[test]
fn the_checker_catches_each_kind_of_violation() {
    let person = json!({"$ref": "#/components/schemas/Person"});
    let doc = json!({
        "paths": {
            "/api/v1/staff/residents": {"get": {
                "parameters": [{"name": "order_by", "in": "query", "description": "e.g. lowest first"}],
                "responses": {"200": {"description": "", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }},
            "/api/v1/staff/people": {"get": {
                "parameters": [{"name": "min", "in": "query", "description": "only those under this 诚信分"}],
                "responses": {}
            }},
            "/api/v1/staff/low-scores": {"get": {
                "responses": {"200": {"description": "", "content": {"application/json": {
                    "schema": {"type": "array", "items": person}}}}}
            }},
            "/api/v1/exports/{id}": {"get": {
                "responses": {"200": {"$ref": "#/components/responses/Export"}}
            }},
            "/api/v1/party/residents": {"get": {
                "responses": {"200": {"description": "", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"items": {"type": "array",
                        "items": {"type": "object", "properties": {"person_id": {"type": "integer"}}}}}}}}}}
            }},
            "/api/v1/party/lookup": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"type": "object",
                    "properties": {"id_number": {"type": "string"}}}}}},
                "responses": {}
            }},
            "/api/v1/units/{id}/people": {"get": {
                "parameters": [{"name": "sort", "in": "query", "description": "by grade"}],
                "responses": {"200": {"description": "", "content": {"application/json": {
                    "schema": {"type": "array", "items": {"type": "object",
                        "properties": {"count": {"type": "integer"}}}}}}}}
            }},
            "/api/v1/party/authorisations/{id}/result": {"get": {
                "parameters": [{"name": "scope", "in": "query", "description": "score, grade or threshold:N"}],
                "responses": {"200": {"description": "", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"grade": {"type": "string"}}}}}}}
            }},
            "/api/v1/me/history": {"get": {
                "responses": {"200": {"description": "", "content": {"application/json": {
                    "schema": {"type": "array", "items": person}}}}}
            }},
        },
        "components": {
            "schemas": {
                "Person": {"allOf": [
                    {"type": "object", "properties": {"id_number": {"type": "string"}}},
                    {"$ref": "#/components/schemas/Scored"}
                ]},
                "Scored": {"type": "object", "properties": {"grade": {"type": "string"},
                    "next": {"$ref": "#/components/schemas/Scored"}}},
            },
            "responses": {"Export": {"description": "", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"rows": {"type": "array", "items": person}}}}}}}
        }
    });
    let r = check(&doc);
    let caught: BTreeSet<&str> = r
        .violations
        .iter()
        .map(|v| v.split(':').next().unwrap().split(" → ").next().unwrap())
        .collect();
    assert_eq!(
        caught,
        BTreeSet::from([
            "GET /api/v1/staff/residents",
            "GET /api/v1/staff/people",
            "GET /api/v1/staff/low-scores",
            "GET /api/v1/exports/{id}",
            "GET /api/v1/party/residents",
            "POST /api/v1/party/lookup",
            "GET /api/v1/units/{id}/people",
        ]),
        "{:#?}",
        r.violations
    );
    // The resident's own history may carry their score: not a violation.
    assert!(
        !r.violations.iter().any(|v| v.contains("/me/")),
        "{:#?}",
        r.violations
    );
    // One resident's answer, addressed by its id and holding no list, may
    // take a parameter naming which answer: it picks nobody out of many.
    assert!(
        !r.violations.iter().any(|v| v.contains("/result")),
        "{:#?}",
        r.violations
    );
    assert_eq!(r.operations, 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_operation_lists_ranks_or_filters_residents_by_score() {
    on_each_backend(|app| async move {
        let res = app
            .client
            .get(app.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap();
        let doc = assert_json(res, StatusCode::OK).await;
        let r = check(&doc);
        assert!(r.violations.is_empty(), "{:#?}", r.violations);
        // Not vacuous: every operation was walked, and the lists in their
        // answers (records, history, scenarios…) were judged.
        let ops: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|i| {
                i.as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| *k != "parameters")
                    .count()
            })
            .sum();
        assert_eq!(r.operations, ops);
        assert!(r.operations >= 30, "{}", r.operations);
        assert!(r.arrays >= 10, "{}", r.arrays);
    })
    .await;
}
