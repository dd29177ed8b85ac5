//! Single records: push, duplicate, correction, withdrawal, rescoring before
//! the answer, bad input, and concurrent identical pushes.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, b03, id, on_each_backend, p01, wrong_check};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_duplicate_correct_withdraw_rescore_before_answering() {
    on_each_backend(|app| async move {
        let (_, psb) = app.unit("SX-PSB", &["B03", "B04"]).await;
        let (_, tax) = app.unit("SX-TAX", &["P01", "S01"]).await;
        let person = id(10);

        // Registered as a resident: eligible, no B01 → 600.
        let r = assert_json(
            app.push(&psb, &b03("H-1", &person)).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(r["outcome"], "accepted");
        assert_eq!(r["rescored"], true);
        // The score itself is not disclosed to a unit.
        assert!(r.get("score").is_none() && r.get("grade").is_none());
        assert_eq!(app.stored_score(&person).await, Some(600));

        // A general penalty within its year of publicity: −20, stored before the answer.
        let rec = p01("2026-000123", &person, "general");
        let first = assert_json(app.push(&tax, &rec).await, StatusCode::CREATED).await;
        assert_eq!(first["outcome"], "accepted");
        assert_eq!(first["source_id"], "2026-000123");
        assert_eq!(first["rescored"], true);
        assert_eq!(app.stored_score(&person).await, Some(580));
        assert_eq!(app.explained_score(&person).await, Some(580));

        // The same content again: same receipt, nothing new stored.
        let again = assert_json(app.push(&tax, &rec).await, StatusCode::OK).await;
        assert_eq!(again["outcome"], "duplicate");
        assert_eq!(again["record_id"], first["record_id"]);
        assert_eq!(again["rescored"], false);
        assert_eq!(app.record_count(&person).await, 2);

        // Different content for the same source_id: a correction.
        let corrected = assert_json(
            app.push(&tax, &p01("2026-000123", &person, "serious"))
                .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(corrected["outcome"], "corrected");
        assert_eq!(app.stored_score(&person).await, Some(550));

        // Withdrawn: stops counting.
        let res = app
            .withdraw(&tax, "2026-000123", &json!({"reason": "decision revoked"}))
            .await;
        let w = assert_json(res, StatusCode::OK).await;
        assert_eq!(w["outcome"], "withdrawn");
        assert_eq!(app.stored_score(&person).await, Some(600));
        assert_eq!(app.explained_score(&person).await, Some(600));

        // Unknown source_id for this unit, and another unit's record.
        let res = app.withdraw(&tax, "no-such", &json!({"reason": "x"})).await;
        assert_problem(res, StatusCode::NOT_FOUND, "record_not_found").await;
        let res = app.withdraw(&tax, "H-1", &json!({"reason": "x"})).await;
        assert_problem(res, StatusCode::NOT_FOUND, "record_not_found").await;

        // A reason is required.
        let res = app.withdraw(&tax, "2026-000123", &json!({})).await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "missing_field").await;
        let res = app
            .withdraw(&tax, "2026-000123", &json!({"reason": " "}))
            .await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    })
    .await;
}

/// A record whose state forbids a withdrawal (repaired by 信用修复) is a
/// 409 with its own code, never a 500; and a correction of it stays repaired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repaired_record_cannot_be_withdrawn_and_its_correction_stays_repaired() {
    on_each_backend(|app| async move {
        let (_, psb) = app.unit("SX-PSB", &["B03"]).await;
        let (_, tax) = app.unit("SX-TAX", &["P01"]).await;
        let person = id(30);
        assert_json(
            app.push(&psb, &b03("H-30", &person)).await,
            StatusCode::CREATED,
        )
        .await;
        let rec = assert_json(
            app.push(&tax, &p01("R-1", &person, "general")).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(app.stored_score(&person).await, Some(580));
        // The agency approves a repair (the repair workflow's decision).
        let record_id = rec["record_id"].as_i64().unwrap();
        let repaired = app
            .run(move |ctx| {
                chengxin_jobs::decisions::decide(
                    ctx,
                    record_id,
                    chengxin_domain::record::RecordEvent::Repair,
                    Some("repair approved"),
                    "staff:test",
                    None,
                )
                .unwrap()
            })
            .await;
        assert_eq!(
            repaired,
            Ok(Some(chengxin_domain::record::RecordStatus::Repaired))
        );
        assert_eq!(app.stored_score(&person).await, Some(600));

        let res = app
            .withdraw(&tax, "R-1", &json!({"reason": "revoked"}))
            .await;
        assert_problem(res, StatusCode::CONFLICT, "record_not_withdrawable").await;

        // The unit corrects the record: the new version is repaired too.
        let corrected = assert_json(
            app.push(&tax, &p01("R-1", &person, "serious")).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(corrected["outcome"], "corrected");
        assert_eq!(app.stored_score(&person).await, Some(600));
        assert_eq!(app.explained_score(&person).await, Some(600));
    })
    .await;
}

/// Each bad record gets its own stable code, and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_records_get_problems_with_stable_codes() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["P01", "S01"]).await;
        let person = id(11);
        let good = p01("G-1", &person, "general");
        let with = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            v
        };
        let bad_check = wrong_check(&person);
        let cases: Vec<(&str, Value)> = vec![
            ("invalid_field", with(&|v| v["id_number"] = json!(330602))),
            (
                "invalid_field",
                with(&|v| v["fields"] = json!("level=general")),
            ),
            ("unknown_item", with(&|v| v["item"] = json!("X99"))),
            (
                "id_check_digit",
                with(&|v| v["id_number"] = json!(bad_check)),
            ),
            (
                "invalid_id_number",
                with(&|v| v["id_number"] = json!("33060219901301123X")),
            ),
            (
                "missing_field",
                with(&|v| {
                    v["fields"].as_object_mut().unwrap().remove("decided_on");
                }),
            ),
            (
                "missing_field",
                with(&|v| {
                    v.as_object_mut().unwrap().remove("source_id");
                }),
            ),
            (
                "invalid_date",
                with(&|v| v["fields"]["decided_on"] = json!("2026-02-30")),
            ),
            (
                "invalid_enum",
                with(&|v| v["fields"]["level"] = json!("huge")),
            ),
            ("unknown_field", with(&|v| v["extra"] = json!(1))),
            ("unit_mismatch", with(&|v| v["unit"] = json!("SX-COURT"))),
        ];
        for (code, body) in cases {
            let res = app.push(&tax, &body).await;
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
        }

        let res = app
            .push_raw(&tax, "application/json", b"{\"source_id\":".to_vec())
            .await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "malformed_json").await;
        let mut bytes = serde_json::to_vec(&good).unwrap();
        let at = bytes
            .windows(6)
            .position(|w| w == "张三".as_bytes())
            .unwrap();
        bytes[at] = 0xff;
        let res = app.push_raw(&tax, "application/json", bytes).await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_utf8").await;

        let res = app
            .push_raw(&tax, "text/plain", serde_json::to_vec(&good).unwrap())
            .await;
        assert_problem(
            res,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        let res = app
            .client
            .post(app.url("/api/v1/records"))
            .header("Authorization", format!("Bearer {tax}"))
            .body(serde_json::to_vec(&good).unwrap())
            .send()
            .await
            .unwrap();
        assert_problem(
            res,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;

        // Over the 64 KiB limit, declared and streamed.
        let mut big = good.clone();
        big["name"] = json!("x".repeat(70 * 1024));
        let res = app.push(&tax, &big).await;
        assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            vec![Ok(serde_json::to_vec(&big).unwrap())];
        let res = app
            .client
            .post(app.url("/api/v1/records"))
            .header("Authorization", format!("Bearer {tax}"))
            .header("Content-Type", "application/json")
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
            .send()
            .await;
        // The server answers 413 as soon as the limit is passed and closes
        // the connection; a client still writing the body may see that as a
        // broken pipe before it reads the answer. Either way nothing is stored.
        match res {
            Ok(res) => {
                assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
            }
            Err(e) => assert!(e.is_request(), "{e}"),
        }

        assert_eq!(app.record_count(&person).await, 0);
        // And the good record still goes in afterwards.
        assert_json(app.push(&tax, &good).await, StatusCode::CREATED).await;
        assert_eq!(app.record_count(&person).await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_identical_pushes_store_one_record() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["P01"]).await;
        let person = id(12);
        let rec = p01("C-1", &person, "general");
        let app = std::sync::Arc::new(app);
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (app, tax, rec) = (std::sync::Arc::clone(&app), tax.clone(), rec.clone());
                tokio::spawn(async move {
                    let res = app.push(&tax, &rec).await;
                    let status = res.status();
                    let body: Value = res.json().await.unwrap();
                    (status, body)
                })
            })
            .collect();
        let mut accepted = 0;
        let mut ids = std::collections::BTreeSet::new();
        for t in tasks {
            let (status, body) = t.await.unwrap();
            match status {
                StatusCode::CREATED => {
                    assert_eq!(body["outcome"], "accepted");
                    accepted += 1;
                }
                StatusCode::OK => assert_eq!(body["outcome"], "duplicate"),
                other => panic!("unexpected {other}: {body}"),
            }
            ids.insert(body["record_id"].as_i64().unwrap());
        }
        assert_eq!(accepted, 1);
        assert_eq!(ids.len(), 1);
        assert_eq!(app.record_count(&person).await, 1);
    })
    .await;
}

/// PostgreSQL text cannot hold U+0000: it is refused before it reaches any
/// backend, with the same answer on each (the API fuzzer found the 500).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_character_is_refused_not_a_server_error() {
    on_each_backend(|app| async move {
        let (_, key) = app.unit("SX-TAX", &["P01"]).await;
        let person = id(40);
        let res = app.push(&key, &p01("NUL-\u{0}", &person, "general")).await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_character").await;

        assert_json(
            app.push(&key, &p01("NUL-1", &person, "general")).await,
            StatusCode::CREATED,
        )
        .await;
        let res = app
            .withdraw(&key, "NUL-1", &json!({"reason": "typo\u{0}"}))
            .await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_character").await;
        let res = app
            .withdraw(&key, "NUL-1%00", &json!({"reason": "typo"}))
            .await;
        assert_problem(res, StatusCode::NOT_FOUND, "record_not_found").await;
        let res = app.get(&key, "/api/v1/batches/b%00").await;
        assert_problem(res, StatusCode::NOT_FOUND, "batch_not_found").await;
    })
    .await;
}
