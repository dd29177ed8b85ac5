//! Who may do what: the authorisation matrix for unit keys.

use chengxin_jobs::units;
use reqwest::StatusCode;

use crate::helpers::{assert_json, assert_problem, id, on_each_backend, p01};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_unknown_disabled_and_rotated_keys_are_401() {
    on_each_backend(|app| async move {
        let (_, key) = app.unit("SX-TAX", &["P01", "S01"]).await;
        let rec = p01("A-1", &id(1), "general");

        // No key.
        let res = app
            .client
            .post(app.url("/api/v1/records"))
            .json(&rec)
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;

        // A key nobody holds.
        let res = app.push("not-a-real-key", &rec).await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;

        // The real key works.
        let res = app.push(&key, &rec).await;
        assert_json(res, StatusCode::CREATED).await;

        // Rotated: the old key stops at once, the new one works.
        let new_key = app
            .run(|ctx| units::rotate_key(ctx, "SX-TAX", "test").unwrap())
            .await;
        let res = app.push(&key, &p01("A-2", &id(1), "general")).await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let res = app.get(&key, "/api/v1/batches/whatever").await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let res = app.push(&new_key, &p01("A-2", &id(1), "general")).await;
        assert_json(res, StatusCode::CREATED).await;

        // Disabled: the current key stops too.
        app.run(|ctx| units::disable_unit(ctx, "SX-TAX", "test").unwrap())
            .await;
        let res = app.push(&new_key, &p01("A-3", &id(1), "general")).await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert_eq!(app.record_count(&id(1)).await, 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_may_push_only_its_own_items() {
    on_each_backend(|app| async move {
        let (_, key) = app.unit("SX-TAX", &["P01"]).await;
        let mut rec = p01("S-1", &id(2), "general");
        rec["item"] = "S01".into();
        rec["fields"] = serde_json::json!({"list_type": "tax", "listed_on": "2026-01-05"});
        let res = app.push(&key, &rec).await;
        let body = assert_problem(res, StatusCode::FORBIDDEN, "item_not_permitted").await;
        assert!(body["detail"].as_str().unwrap().contains("S01"));
        assert_eq!(app.record_count(&id(2)).await, 0);

        // In a batch the same row is rejected alone.
        let line = serde_json::to_string(&rec).unwrap();
        let ok = serde_json::to_string(&p01("S-2", &id(2), "general")).unwrap();
        let res = app
            .batch(
                &key,
                "application/x-ndjson",
                format!("{line}\n{ok}\n").into_bytes(),
                None,
            )
            .await;
        let receipt = assert_json(res, StatusCode::CREATED).await;
        assert_eq!(receipt["accepted"], 1);
        assert_eq!(receipt["rejected"], 1);
        assert_eq!(receipt["errors"][0]["code"], "item_not_permitted");
        assert_eq!(receipt["errors"][0]["line"], 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_cannot_read_another_units_batch() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["P01"]).await;
        let (_, court) = app.unit("SX-COURT", &["S01", "B02"]).await;
        let line = serde_json::to_string(&p01("B-1", &id(3), "general")).unwrap();
        let res = app
            .batch(
                &tax,
                "application/x-ndjson",
                format!("{line}\n").into_bytes(),
                None,
            )
            .await;
        let receipt = assert_json(res, StatusCode::CREATED).await;
        let path = format!("/api/v1/batches/{}", receipt["id"].as_str().unwrap());

        let res = app.get(&court, &path).await;
        assert_problem(res, StatusCode::NOT_FOUND, "batch_not_found").await;
        let res = app.get(&tax, "/api/v1/batches/no-such-batch").await;
        assert_problem(res, StatusCode::NOT_FOUND, "batch_not_found").await;

        let res = app.get(&tax, &path).await;
        assert_eq!(assert_json(res, StatusCode::OK).await, receipt);
    })
    .await;
}
