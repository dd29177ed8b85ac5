//! Every request example in the OpenAPI document is accepted: the examples
//! are read from the generated document and sent to a running server, so an
//! example that the server's own validation refuses cannot be published.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_json, on_each_backend};

/// The `examples` (and `example`) a schema or media type carries.
fn examples_of(v: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = v["examples"].as_array().cloned().unwrap_or_default();
    if let Some(e) = v.get("example") {
        out.push(e.clone());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_example_in_the_document_is_accepted() {
    on_each_backend(|app| async move {
        let doc = serde_json::to_value(chengxin_server::openapi()).unwrap();
        let catalogue = chengxin_domain::Catalogue::builtin();
        let items: Vec<&str> = catalogue.items.iter().map(|i| i.code.as_str()).collect();
        let (_, key) = app.unit("SX-ALL", &items).await;

        // Records: the example of each item's schema, then that of the union.
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut records = Vec::new();
        for item in &items {
            let schema = &schemas[&format!("Record{item}")];
            let found = examples_of(schema);
            assert!(!found.is_empty(), "Record{item} has no example");
            records.extend(found);
        }
        records.extend(examples_of(&schemas["RecordInput"]));
        for record in &records {
            let res = app.push(&key, record).await;
            assert!(
                res.status().is_success(),
                "example {record} refused: {}",
                res.text().await.unwrap()
            );
        }

        // Batches: each media type's example, every row accepted; the first
        // also with the documented Idempotency-Key example.
        let op = &doc["paths"]["/api/v1/batches"]["post"];
        let idempotency_key = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "Idempotency-Key")
            .and_then(|p| p["example"].as_str())
            .expect("the Idempotency-Key header has an example")
            .to_owned();
        let mut sent = 0;
        for (media_type, content) in op["requestBody"]["content"].as_object().unwrap() {
            for example in examples_of(content) {
                let body = example.as_str().unwrap().as_bytes().to_vec();
                let key_header = (sent == 0).then_some(idempotency_key.as_str());
                let res = app.batch(&key, media_type, body, key_header).await;
                let receipt = assert_json(res, StatusCode::CREATED).await;
                assert_eq!(receipt["rejected"], 0, "{media_type}: {receipt}");
                sent += 1;
            }
        }
        assert!(sent >= 2, "the JSON Lines and CSV examples");

        // Withdrawal: the documented reason, for the union's example record.
        let op = &doc["paths"]["/api/v1/records/{source_id}/withdraw"]["post"];
        let reason = &op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
        let reason = reason.as_str().unwrap().rsplit('/').next().unwrap();
        let body = serde_json::json!({
            "reason": schemas[reason]["properties"]["reason"]["example"].clone()
        });
        let source_id = examples_of(&schemas["RecordInput"])[0]["source_id"].clone();
        let res = app.withdraw(&key, source_id.as_str().unwrap(), &body).await;
        assert_eq!(
            assert_json(res, StatusCode::OK).await["outcome"],
            "withdrawn"
        );

        // Certificate verification: the documented body is well-formed (its
        // made-up certificate is answered, not refused as a request).
        let body = serde_json::json!({
            "jws": schemas["VerifyRequest"]["properties"]["jws"]["example"].clone()
        });
        let res = app
            .client
            .post(app.url("/api/v1/certificates/verify"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let verdict = assert_json(res, StatusCode::OK).await;
        assert_eq!(verdict["valid"], false, "{verdict}");
        assert!(verdict["reason"].is_string(), "{verdict}");
    })
    .await;
}
