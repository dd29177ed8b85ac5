//! Batches: mixed good and bad rows, CSV, idempotency, concurrency, size limits.

use std::sync::Arc;

use chengxin_server::Limits;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, id, on_each_backend, p01, wrong_check, TestApp};

fn line(v: &Value) -> Vec<u8> {
    let mut l = serde_json::to_vec(v).unwrap();
    l.push(b'\n');
    l
}

/// Every kind of bad row is rejected with its line and code; the good rows
/// around them are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jsonl_batch_rejects_bad_rows_alone() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["P01", "S01"]).await;
        let person = id(20);
        let mut body = Vec::new();
        body.extend(line(&p01("J-1", &person, "general"))); // 1 ok
        body.extend(b"{\"source_id\": \"J-2\",\n"); // 2 malformed_json
        let mut wrong_type = p01("J-3", &person, "general");
        wrong_type["id_number"] = json!(330602);
        body.extend(line(&wrong_type)); // 3 invalid_field
        let mut unknown = p01("J-4", &person, "general");
        unknown["item"] = json!("Z01");
        body.extend(line(&unknown)); // 4 unknown_item
        let mut check = p01("J-5", &person, "general");
        check["id_number"] = json!(wrong_check(&person));
        body.extend(line(&check)); // 5 id_check_digit
        let mut missing = p01("J-6", &person, "general");
        missing["fields"].as_object_mut().unwrap().remove("level");
        body.extend(line(&missing)); // 6 missing_field
        let mut utf8 = line(&p01("J-7", &person, "general"));
        let at = utf8
            .windows(6)
            .position(|w| w == "张三".as_bytes())
            .unwrap();
        utf8[at] = 0xfe;
        body.extend(utf8); // 7 invalid_utf8
        let mut huge = p01("J-8", &person, "general");
        huge["name"] = json!("x".repeat(1024 * 1024));
        body.extend(line(&huge)); // 8 line_too_long
        body.extend(line(&p01("J-9", &id(21), "serious"))); // 9 ok

        let res = app.batch(&tax, "application/x-ndjson", body, None).await;
        assert!(res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/api/v1/batches/"));
        let receipt = assert_json(res, StatusCode::CREATED).await;
        assert_eq!(receipt["unit"], "SX-TAX");
        assert_eq!(receipt["status"], "completed");
        assert_eq!(receipt["accepted"], 2);
        assert_eq!(receipt["rejected"], 7);
        let errors: Vec<(u64, String)> = receipt["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
                (
                    e["line"].as_u64().unwrap(),
                    e["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected: Vec<(u64, String)> = [
            (2, "malformed_json"),
            (3, "invalid_field"),
            (4, "unknown_item"),
            (5, "id_check_digit"),
            (6, "missing_field"),
            (7, "invalid_utf8"),
            (8, "line_too_long"),
        ]
        .iter()
        .map(|(l, c)| (*l, (*c).to_owned()))
        .collect();
        assert_eq!(errors, expected);
        assert_eq!(app.record_count(&person).await, 1);
        assert_eq!(app.record_count(&id(21)).await, 1);

        // The receipt can be read back.
        let path = format!("/api/v1/batches/{}", receipt["id"].as_str().unwrap());
        assert_eq!(
            assert_json(app.get(&tax, &path).await, StatusCode::OK).await,
            receipt
        );

        // The same body again without a key: nothing is stored twice.
        let again = assert_json(
            app.batch(
                &tax,
                "application/jsonl",
                line(&p01("J-1", &person, "general")),
                None,
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(again["duplicate"], 1);
        assert_eq!(again["accepted"], 0);
        assert_eq!(app.record_count(&person).await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_batches_and_a_csv_missing_a_column() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["P01"]).await;
        let person = id(22);
        let csv = format!(
            "source_id,item,id_number,name,fields.level,fields.decided_on,fields.authority,fields.case_no,fields.domain\n\
             C-1,P01,{person},张三,general,{d},绍兴市税务局,\"绍税罚〔2026〕1号\",tax\n\
             C-2,P01,{person},张三,galactic,{d},绍兴市税务局,2,tax\n",
            d = crate::helpers::days_ago(10),
        );
        let receipt = assert_json(
            app.batch(&tax, "text/csv; charset=utf-8", csv.into_bytes(), None).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(receipt["accepted"], 1);
        assert_eq!(receipt["rejected"], 1);
        assert_eq!(receipt["errors"][0]["line"], 3);
        assert_eq!(receipt["errors"][0]["code"], "invalid_enum");
        assert_eq!(receipt["errors"][0]["source_id"], "C-2");

        let no_id = "source_id,item,name\nC-3,P01,张三\n".to_owned();
        let res = app.batch(&tax, "text/csv", no_id.into_bytes(), None).await;
        let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "missing_column").await;
        assert!(body["detail"].as_str().unwrap().contains("id_number"));
        assert_eq!(app.record_count(&person).await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_content_types_and_bad_idempotency_keys() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["P01"]).await;
        let body = line(&p01("W-1", &id(23), "general"));
        for ct in ["application/json", "text/plain", "application/octet-stream"] {
            let res = app.batch(&tax, ct, body.clone(), None).await;
            assert_problem(
                res,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            )
            .await;
        }
        let long = "k".repeat(300);
        let res = app
            .batch(&tax, "application/x-ndjson", body.clone(), Some(&long))
            .await;
        assert_problem(res, StatusCode::BAD_REQUEST, "invalid_idempotency_key").await;
        assert_eq!(app.record_count(&id(23)).await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_replays_its_receipt_and_refuses_another_body() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["P01"]).await;
        let body = [
            line(&p01("I-1", &id(24), "general")),
            line(&p01("I-2", &id(25), "general")),
        ]
        .concat();
        let first = assert_json(
            app.batch(
                &tax,
                "application/x-ndjson",
                body.clone(),
                Some("import-2026-05-01"),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(first["accepted"], 2);
        let second = assert_json(
            app.batch(
                &tax,
                "application/x-ndjson",
                body.clone(),
                Some("import-2026-05-01"),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(second, first);
        assert_eq!(app.record_count(&id(24)).await, 1);

        let other = line(&p01("I-3", &id(26), "general"));
        let res = app
            .batch(
                &tax,
                "application/x-ndjson",
                other,
                Some("import-2026-05-01"),
            )
            .await;
        assert_problem(
            res,
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
        )
        .await;
        assert_eq!(app.record_count(&id(26)).await, 0);

        // Keys belong to a unit: another unit's identical key is its own.
        let (_, court) = app.unit("SX-COURT", &["P01"]).await;
        let theirs = assert_json(
            app.batch(
                &court,
                "application/x-ndjson",
                body,
                Some("import-2026-05-01"),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_ne!(theirs["id"], first["id"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_submissions_of_one_batch_have_one_effect() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["P01"]).await;
        let body: Vec<u8> = (0..20)
            .flat_map(|i| line(&p01(&format!("K-{i}"), &id(100 + i), "general")))
            .collect();
        let app = Arc::new(app);
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (app, tax, body) = (Arc::clone(&app), tax.clone(), body.clone());
                tokio::spawn(async move {
                    // A repeat while the first is running is told to come
                    // back (409 with Retry-After, or 429 when the unit's
                    // batch slots are taken), never kept waiting.
                    for _ in 0..600 {
                        let res = app
                            .batch(
                                &tax,
                                "application/x-ndjson",
                                body.clone(),
                                Some("concurrent-1"),
                            )
                            .await;
                        let status = res.status();
                        let retry = res.headers().get("retry-after").cloned();
                        let receipt: Value = res.json().await.unwrap();
                        if status == StatusCode::CONFLICT || status == StatusCode::TOO_MANY_REQUESTS
                        {
                            let code = receipt["code"].as_str().unwrap();
                            assert!(
                                ["batch_in_progress", "too_many_batches"].contains(&code),
                                "{receipt}"
                            );
                            assert!(retry.is_some(), "{status} without Retry-After");
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            continue;
                        }
                        return (status, receipt);
                    }
                    panic!("the batch never completed");
                })
            })
            .collect();
        let mut ids = std::collections::BTreeSet::new();
        let mut completed = Vec::new();
        for t in tasks {
            let (status, receipt) = t.await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{receipt}");
            ids.insert(receipt["id"].as_str().unwrap().to_owned());
            assert_eq!(receipt["status"], "completed");
            completed.push(receipt);
        }
        assert_eq!(ids.len(), 1, "one batch: {ids:?}");
        assert_eq!(completed.len(), 50);
        for r in &completed {
            assert_eq!(r, &completed[0]);
        }
        assert_eq!(completed[0]["accepted"], 20);
        for i in 0..20 {
            assert_eq!(app.record_count(&id(100 + i)).await, 1);
        }
        let path = format!("/api/v1/batches/{}", ids.first().unwrap());
        let last = assert_json(app.get(&tax, &path).await, StatusCode::OK).await;
        assert_eq!(last, completed[0]);
    })
    .await;
}

/// More than 100 MB streamed without a length is cut off with a 413.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_100_mb_is_refused() {
    let app = TestApp::spawn(chengxin_testkit::TestDb::sqlite()).await;
    let (_, tax) = app.unit("SX-TAX", &["P01"]).await;
    // Blank lines are not rows, so only the size matters.
    let mut blank = vec![b' '; 1023];
    blank.push(b'\n');
    let chunk = blank.repeat(1024);
    let chunks = (0..101).map(move |_| Ok::<_, std::io::Error>(chunk.clone()));
    let res = app
        .client
        .post(app.url("/api/v1/batches"))
        .header("Authorization", format!("Bearer {tax}"))
        .header("Content-Type", "application/x-ndjson")
        .header("Idempotency-Key", "big-1")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

/// A declared length over the limit is refused before reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_length_over_the_limit_is_refused_at_once() {
    let limits = Limits {
        batch_body: 1024,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(chengxin_testkit::TestDb::sqlite(), limits).await;
    let (_, tax) = app.unit("SX-TAX", &["P01"]).await;
    let body: Vec<u8> = (0..20)
        .flat_map(|i| line(&p01(&format!("L-{i}"), &id(200 + i), "general")))
        .collect();
    assert!(body.len() > 1024);
    let res = app.batch(&tax, "application/x-ndjson", body, None).await;
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(app.record_count(&id(200)).await, 0);
}
