//! The API's documents cannot drift: the OpenAPI document is snapshot-tested,
//! lists exactly the routes the router serves, and `ERRORS.md` equals the
//! error table.

use std::collections::BTreeSet;

use chengxin_server::error::errors_markdown;
use chengxin_server::ErrorCode;

#[test]
fn openapi_document_snapshot() {
    let doc = serde_json::to_value(chengxin_server::openapi()).unwrap();
    insta::assert_json_snapshot!("openapi", doc);
}

#[test]
fn openapi_lists_every_endpoint() {
    let doc = chengxin_server::openapi();
    let mut found = BTreeSet::new();
    for (path, item) in &doc.paths.paths {
        let item = serde_json::to_value(item).unwrap();
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                found.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let expected: BTreeSet<String> = [
        "GET /api/v1/health",
        "GET /api/v1/openapi.json",
        "POST /api/v1/records",
        "POST /api/v1/records/{source_id}/withdraw",
        "POST /api/v1/batches",
        "GET /api/v1/batches/{id}",
        "GET /api/v1/me/score",
        "GET /api/v1/me/history",
        "GET /api/v1/me/records",
        "GET /api/v1/me/notifications",
        "GET /api/v1/me/access-log",
        "GET /api/v1/me/export",
        "GET /api/v1/audit/checkpoint",
        "GET /api/v1/me",
        "GET /api/v1/commitment-templates",
        "GET /api/v1/catalogue",
        "POST /api/v1/me/commitments",
        "GET /api/v1/me/commitments",
        "POST /api/v1/me/self-reports",
        "GET /api/v1/me/self-reports",
        "GET /api/v1/unit/self-reports",
        "POST /api/v1/unit/self-reports/{id}/decision",
        "GET /api/v1/unit/self-reports/{id}/evidence/{sha256}",
        "POST /api/v1/staff/sessions",
        "DELETE /api/v1/staff/sessions/current",
        "GET /api/v1/staff/me",
        "GET /api/v1/staff/self-reports",
        "POST /api/v1/staff/self-reports/{id}/decision",
        "GET /api/v1/staff/self-reports/{id}/evidence/{sha256}",
        "POST /api/v1/me/objections",
        "GET /api/v1/me/objections",
        "GET /api/v1/staff/objections",
        "POST /api/v1/staff/objections/{id}/accept",
        "POST /api/v1/staff/objections/{id}/decision",
        "GET /api/v1/staff/objections/{id}/evidence/{sha256}",
        "GET /api/v1/unit/objections",
        "POST /api/v1/unit/objections/{id}/reply",
        "GET /api/v1/me/repairs/options",
        "POST /api/v1/me/repairs",
        "GET /api/v1/me/repairs",
        "GET /api/v1/staff/repairs",
        "POST /api/v1/staff/repairs/{id}/decision",
        "POST /api/v1/me/authorisations",
        "GET /api/v1/me/authorisations",
        "DELETE /api/v1/me/authorisations/{id}",
        "POST /api/v1/party/authorisations/redeem",
        "GET /api/v1/party/authorisations/{id}/result",
        "POST /api/v1/party/authorisations/{id}/certificate",
        "GET /api/v1/party/authorisations/{id}/scenarios/{code}",
        "GET /api/v1/scenarios",
        "GET /api/v1/me/scenarios",
        "POST /api/v1/staff/scenarios",
        "GET /api/v1/staff/scenarios",
        "POST /api/v1/staff/scenarios/{code}/retire",
        "GET /api/v1/staff/statistics",
        "GET /.well-known/jwks.json",
        "POST /api/v1/certificates/verify",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(found, expected);
}

#[test]
fn every_error_code_is_in_the_document() {
    let doc = serde_json::to_value(chengxin_server::openapi()).unwrap();
    let codes = &doc["components"]["schemas"]["ErrorCode"];
    let listed: BTreeSet<&str> = codes
        .pointer("/enum")
        .or_else(|| codes.pointer("/oneOf"))
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| {
                    v.as_str()
                        .or_else(|| v.pointer("/enum/0").and_then(|s| s.as_str()))
                })
                .collect()
        })
        .unwrap_or_default();
    let table: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, table);
}

#[test]
fn errors_md_matches_the_error_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ERRORS.md");
    let generated = errors_markdown();
    if std::env::var("UPDATE_ERRORS_MD").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ERRORS.md differs from the ErrorCode table; regenerate it with \
         `UPDATE_ERRORS_MD=1 cargo test -p chengxin-server --test openapi`"
    );
    for c in ErrorCode::ALL {
        assert!(committed.contains(&format!("| `{}` | {} |", c.as_str(), c.status().as_u16())));
    }
}

#[test]
fn every_operation_documents_how_it_refuses() {
    let doc = serde_json::to_value(chengxin_server::openapi()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let op_name = format!("{} {path}", method.to_uppercase());
            let responses = op["responses"].as_object().unwrap();
            let has = |status: &str| {
                let r = responses.get(status);
                let problem = r.and_then(|r| r.pointer("/content/application~1problem+json"));
                assert!(
                    problem.is_some(),
                    "{op_name} does not document {status} as a problem"
                );
            };
            has("408");
            has("500");
            if op.get("security").is_some() {
                has("401");
                assert!(
                    responses["401"]["headers"]
                        .get("WWW-Authenticate")
                        .is_some(),
                    "{op_name}"
                );
            }
            if let Some(body) = op.get("requestBody") {
                assert_eq!(body["required"], true, "{op_name}: body not required");
                has("400");
                has("413");
                has("415");
                has("422");
            }
            if path.contains('{') {
                has("400");
            }
        }
    }
}

#[test]
fn the_documented_id_number_pattern_matches_the_example() {
    let doc = serde_json::to_value(chengxin_server::openapi()).unwrap();
    let id = &doc["components"]["schemas"]["RecordP01"]["properties"]["id_number"];
    assert_eq!(id["pattern"], "^[0-9]{17}[0-9Xx]$");
    assert_eq!(id["format"], "gb11643");
    let example = id["example"].as_str().unwrap();
    chengxin_domain::IdNumber::parse(example).unwrap();
}
