//! The staff role matrix over HTTP on every backend: every staff operation
//! the OpenAPI document lists, called by every role, is refused with 403
//! `role_forbidden` exactly when the domain's matrix (`Role::may`) denies
//! the role the operation's right, and never refused for a role that holds
//! it. The table below must name every staff operation in the document, so
//! a new one cannot go untested.

use std::collections::BTreeMap;

use chengxin_domain::staff::{Right, Role};
use reqwest::header::AUTHORIZATION;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, on_each_backend};

/// The right each staff operation needs (`None`: any signed-in staff).
fn rights() -> BTreeMap<&'static str, Option<Right>> {
    use Right::*;
    BTreeMap::from([
        ("GET /api/v1/staff/me", None),
        ("DELETE /api/v1/staff/sessions/current", None),
        ("GET /api/v1/staff/self-reports", Some(DecideSelfReports)),
        (
            "POST /api/v1/staff/self-reports/{id}/decision",
            Some(DecideSelfReports),
        ),
        (
            "GET /api/v1/staff/self-reports/{id}/evidence/{sha256}",
            Some(DecideSelfReports),
        ),
        ("GET /api/v1/staff/objections", Some(DecideObjections)),
        (
            "POST /api/v1/staff/objections/{id}/accept",
            Some(DecideObjections),
        ),
        (
            "POST /api/v1/staff/objections/{id}/decision",
            Some(DecideObjections),
        ),
        (
            "GET /api/v1/staff/objections/{id}/evidence/{sha256}",
            Some(DecideObjections),
        ),
        ("GET /api/v1/staff/repairs", Some(DecideRepairs)),
        (
            "POST /api/v1/staff/repairs/{id}/decision",
            Some(DecideRepairs),
        ),
        ("GET /api/v1/staff/scenarios", Some(ManageScenarios)),
        ("POST /api/v1/staff/scenarios", Some(ManageScenarios)),
        (
            "POST /api/v1/staff/scenarios/{code}/retire",
            Some(ManageScenarios),
        ),
        ("GET /api/v1/staff/statistics", Some(ViewStatistics)),
    ])
}

/// The documented example of an operation's JSON body, if it has one.
fn example_body(op: &Value, doc: &Value) -> Option<Value> {
    let content = &op["requestBody"]["content"]["application/json"];
    if content.is_null() {
        return None;
    }
    if let Some(e) = content.get("example") {
        return Some(e.clone());
    }
    let mut schema = content["schema"].clone();
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        schema = doc["components"]["schemas"][name].clone();
    }
    schema
        .get("example")
        .cloned()
        .or_else(|| schema["oneOf"][0].get("example").cloned())
        .or(Some(json!({})))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_staff_operation_by_every_role() {
    on_each_backend(|app| async move {
        let doc = assert_json(
            app.client
                .get(app.url("/api/v1/openapi.json"))
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        let table = rights();
        let mut listed = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            if !path.starts_with("/api/v1/staff/") || path == "/api/v1/staff/sessions" {
                continue;
            }
            for (method, op) in item.as_object().unwrap() {
                listed.push((format!("{} {path}", method.to_uppercase()), op.clone()));
            }
        }
        let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
        let mut expected: Vec<&str> = table.keys().copied().collect();
        let mut got = names.clone();
        expected.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, expected, "the table names every staff operation");

        let sha = "0".repeat(64);
        for role in Role::ALL {
            for (name, op) in &listed {
                // Sign-out ends the session: a fresh one for each call.
                let token = app
                    .staff_token(&format!("{}{}", role.as_str(), rand_suffix(name)), role)
                    .await;
                let (method, path) = name.split_once(' ').unwrap();
                let url = path
                    .replace("{id}", "1")
                    .replace("{code}", "NOPE")
                    .replace("{sha256}", &sha);
                let mut req = app
                    .client
                    .request(method.parse().unwrap(), app.url(&url))
                    .header(AUTHORIZATION, format!("Bearer {token}"));
                if let Some(body) = example_body(op, &doc) {
                    req = req.json(&body);
                }
                let res = req.send().await.unwrap();
                let status = res.status();
                let text = res.text().await.unwrap();
                let allowed = table[name.as_str()].is_none_or(|r| role.may(r));
                assert_ne!(status, StatusCode::UNAUTHORIZED, "{name} as {role}: {text}");
                if allowed {
                    assert_ne!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{}: {name} as {role}: {text}",
                        app.backend
                    );
                } else {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{}: {name} as {role}: {text}",
                        app.backend
                    );
                    assert!(text.contains("role_forbidden"), "{name} as {role}: {text}");
                }
            }
        }
    })
    .await;
}

/// A short, distinct staff-name suffix per operation.
fn rand_suffix(name: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    format!("{:x}", h.finish() & 0xffff_ffff)
}
