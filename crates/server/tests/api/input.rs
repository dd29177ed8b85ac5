//! Issue 7, findings 6–8 over HTTP, on every backend: input PostgreSQL
//! cannot hold or that is implausible is refused row by row, identically on
//! both backends, and the rest of the batch completes; reads of receipts are
//! audited; a client's request id never stands in for ours.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, days_ago, id, on_each_backend, p01};

fn with_date(mut record: Value, date: &str) -> Value {
    record["fields"]["decided_on"] = json!(date);
    record
}

fn with_name(mut record: Value, name: &str) -> Value {
    record["name"] = json!(name);
    record
}

/// Rows that once aborted a whole PostgreSQL chunk (year 0, U+0000) or
/// were accepted though implausible, each with the code it now gets.
fn bad_rows() -> Vec<(Value, &'static str)> {
    let tomorrow = days_ago(-1).to_string();
    vec![
        (
            with_date(p01("Y0", &id(61), "general"), "0000-01-01"),
            "date_out_of_range",
        ),
        (p01("NUL-\u{0}", &id(62), "general"), "invalid_character"),
        (
            with_name(p01("NUL-NAME", &id(63), "general"), "张\u{0}三"),
            "invalid_character",
        ),
        (
            with_name(p01("BIDI", &id(64), "general"), "张\u{202E}三"),
            "invalid_character",
        ),
        (
            with_name(p01("ZW", &id(65), "general"), "张\u{200B}三"),
            "invalid_character",
        ),
        (
            with_date(p01("FUTURE", &id(66), "general"), &tomorrow),
            "date_out_of_range",
        ),
        (
            json!({"source_id": "S01-X", "item": "S01", "id_number": id(67),
                   "fields": {"list_type": "tax", "listed_on": "2024-02-01", "removed_on": "2024-01-01"}}),
            "inconsistent_fields",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rows_are_refused_alone_and_the_batch_completes() {
    on_each_backend(|app| async move {
        let (_, key) = app.unit("SX-TAX", &["P01", "S01"]).await;
        let bad = bad_rows();
        let mut body = Vec::new();
        for (row, _) in &bad {
            body.extend(serde_json::to_vec(row).unwrap());
            body.push(b'\n');
            body.extend(
                serde_json::to_vec(&p01(&format!("G{}", body.len()), &id(70), "minor")).unwrap(),
            );
            body.push(b'\n');
        }
        let res = app
            .batch(&key, "application/x-ndjson", body, Some("input-1"))
            .await;
        let receipt = assert_json(res, StatusCode::CREATED).await;
        assert_eq!(receipt["status"], "completed", "{}: {receipt}", app.backend);
        assert_eq!(receipt["accepted"], bad.len(), "{}", app.backend);
        assert_eq!(receipt["rejected"], bad.len(), "{}", app.backend);
        let codes: Vec<&str> = receipt["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, bad.iter().map(|b| b.1).collect::<Vec<_>>());
        // The receipt can be read back (and that read is audited below).
        let id_ = receipt["id"].as_str().unwrap().to_owned();
        let again = app
            .client
            .get(app.url(&format!("/api/v1/batches/{id_}")))
            .header("authorization", format!("Bearer {key}"))
            .header("x-request-id", "unit-chosen-7")
            .send()
            .await
            .unwrap();
        let ours = again.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(ours, "unit-chosen-7");
        assert_json(again, StatusCode::OK).await;
        let log = app
            .run(|ctx| {
                ctx.store.seal_audit().unwrap();
                ctx.store.read().unwrap().audit_entries(0, 100_000).unwrap()
            })
            .await;
        let read = log
            .iter()
            .find(|e| e.event.action == "batch.read")
            .expect("GET /batches/{id} is audited");
        assert_eq!(read.event.actor, "unit:SX-TAX");
        assert_eq!(read.event.request_id.as_deref(), Some(ours.as_str()));
        assert_eq!(read.event.detail["client_request_id"], "unit-chosen-7");
        assert!(!log
            .iter()
            .any(|e| e.event.request_id.as_deref() == Some("unit-chosen-7")));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_single_pushes_get_their_code_and_the_next_push_succeeds() {
    on_each_backend(|app| async move {
        let (_, key) = app.unit("SX-TAX", &["P01", "S01"]).await;
        for (row, code) in bad_rows() {
            let res = app.push(&key, &row).await;
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
            let good = p01(&format!("OK-{code}-{}", row["source_id"]), &id(71), "minor");
            let good = with_name(good, "张三");
            assert_json(app.push(&key, &good).await, StatusCode::CREATED).await;
        }
        // A withdrawal: invisible characters in the reason are refused, one
        // in the path finds nothing; a good withdrawal still works.
        assert_json(
            app.push(&key, &p01("W-1", &id(72), "general")).await,
            StatusCode::CREATED,
        )
        .await;
        for reason in ["typo\u{0}", "typo\u{202E}", "ty\u{200D}po"] {
            let res = app
                .withdraw(&key, "W-1", &json!({ "reason": reason }))
                .await;
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_character").await;
        }
        let res = app
            .withdraw(&key, "W-1%E2%80%AE", &json!({"reason": "typo"}))
            .await;
        assert_problem(res, StatusCode::NOT_FOUND, "record_not_found").await;
        let res = app
            .withdraw(&key, "W-1", &json!({"reason": "entered in error"}))
            .await;
        assert_json(res, StatusCode::OK).await;
        // A client's request id goes to the detail, ours to request_id.
        let res = app
            .client
            .post(app.url("/api/v1/records"))
            .header("authorization", format!("Bearer {key}"))
            .header("x-request-id", "my-own-id")
            .json(&p01("RID", &id(73), "general"))
            .send()
            .await
            .unwrap();
        let ours = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_json(res, StatusCode::CREATED).await;
        let log = app
            .run(|ctx| {
                ctx.store.seal_audit().unwrap();
                ctx.store.read().unwrap().audit_entries(0, 100_000).unwrap()
            })
            .await;
        let mine: Vec<_> = log
            .iter()
            .filter(|e| e.event.detail["client_request_id"] == "my-own-id")
            .collect();
        assert!(!mine.is_empty(), "{}", app.backend);
        assert!(mine
            .iter()
            .all(|e| e.event.request_id.as_deref() == Some(ours.as_str())));
    })
    .await;
}
