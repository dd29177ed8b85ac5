//! The resident's own data over HTTP: score with what-if, history, records,
//! notifications, access log and export — only ever the caller's, each read
//! audited, on every backend.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_json, assert_problem, b03, id, on_each_backend, p01};

const ENDPOINTS: [&str; 6] = [
    "/api/v1/me/score",
    "/api/v1/me/history",
    "/api/v1/me/records",
    "/api/v1/me/notifications",
    "/api/v1/me/access-log",
    "/api/v1/me/export",
];

async fn audit_size(app: &crate::helpers::TestApp) -> i64 {
    app.run(|ctx| chengxin_jobs::audit::verify(ctx, None).unwrap().entries)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_reads_their_own_data_and_sees_who_else_did() {
    on_each_backend(|app| async move {
        let (_, psb) = app.unit("SX-PSB", &["B03"]).await;
        let (_, tax) = app.unit("SX-TAX", &["P01", "S01"]).await;
        let me = id(40);
        assert_json(app.push(&psb, &b03("M-1", &me)).await, StatusCode::CREATED).await;
        let pushed = assert_json(
            app.push(&tax, &p01("M-2", &me, "serious")).await,
            StatusCode::CREATED,
        )
        .await;
        let token = app.resident_token(&me);

        let res = app.get(&token, "/api/v1/me/score").await;
        // Written straight as JSON text, sent as `Json` sent the value.
        assert_eq!(res.headers()["content-type"], "application/json");
        let score = assert_json(res, StatusCode::OK).await;
        assert_eq!(
            score["score"],
            Value::from(app.explained_score(&me).await.unwrap())
        );
        assert_eq!(score["eligible"], true);
        assert!(score["contributions"].is_array() && score["factors"].is_array());
        let what_if = score["what_if"].as_array().unwrap();
        let repair = what_if
            .iter()
            .find(|w| w["record_id"] == pushed["record_id"])
            .expect("the serious penalty can be repaired");
        assert_eq!(repair["action"], "repair");
        assert!(repair["score_after"].as_i64().unwrap() > score["score"].as_i64().unwrap());
        assert_eq!(repair["needs_commitment"], true, "no commitment is running");

        let history =
            assert_json(app.get(&token, "/api/v1/me/history").await, StatusCode::OK).await;
        let history = history.as_array().unwrap();
        assert_eq!(history.len(), 2, "{history:?}");
        assert_eq!(history[1]["cause"], "push");
        assert_eq!(history[1]["score"], score["score"]);

        let notes = assert_json(
            app.get(&token, "/api/v1/me/notifications").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(notes[0]["score_after"], score["score"]);
        assert_eq!(notes[0]["score_before"], history[0]["score"]);
        assert!(notes[0]["text_zh"].as_str().unwrap().contains("诚信分"));

        let records =
            assert_json(app.get(&token, "/api/v1/me/records").await, StatusCode::OK).await;
        let records = records.as_array().unwrap();
        assert_eq!(records.len(), 2);
        assert!(records
            .iter()
            .all(|r| r["state"] == "active" && r["counts"] == true));

        let log = assert_json(
            app.get(&token, "/api/v1/me/access-log").await,
            StatusCode::OK,
        )
        .await;
        let log = log.as_array().unwrap();
        assert!(log
            .iter()
            .any(|a| a["actor_kind"] == "unit" && a["action"] == "record.accepted"));
        assert!(
            log.iter().all(|a| a["actor_kind"] != "resident"),
            "own reads are not listed: {log:?}"
        );

        let export = assert_json(app.get(&token, "/api/v1/me/export").await, StatusCode::OK).await;
        assert_eq!(export["id_number"], Value::from(me.clone()));
        assert_eq!(export["records"].as_array().unwrap().len(), 2);

        // Each read is one audit entry by the resident.
        let before = audit_size(&app).await;
        for path in ENDPOINTS {
            assert_json(app.get(&token, path).await, StatusCode::OK).await;
        }
        assert_eq!(audit_size(&app).await, before + ENDPOINTS.len() as i64);

        assert_problem(
            app.get(&token, "/api/v1/me/access-log?limit=0").await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        )
        .await;
        assert_problem(
            app.get(&token, "/api/v1/me/access-log?limit=x").await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_never_sees_another_and_leaves_no_trace_in_their_log() {
    on_each_backend(|app| async move {
        let (_, psb) = app.unit("SX-PSB", &["B03"]).await;
        let (_, tax) = app.unit("SX-TAX", &["P01"]).await;
        let (a, b) = (id(41), id(42));
        assert_json(app.push(&psb, &b03("A-1", &a)).await, StatusCode::CREATED).await;
        assert_json(app.push(&psb, &b03("B-1", &b)).await, StatusCode::CREATED).await;
        assert_json(
            app.push(&tax, &p01("B-2", &b, "general")).await,
            StatusCode::CREATED,
        )
        .await;
        let ta = app.resident_token(&a);
        let tb = app.resident_token(&b);
        let b_log_before =
            assert_json(app.get(&tb, "/api/v1/me/access-log").await, StatusCode::OK).await;

        for path in ENDPOINTS {
            let body = assert_json(app.get(&ta, path).await, StatusCode::OK).await;
            let text = body.to_string();
            assert!(!text.contains(&b), "{path} shows B's ID number");
            assert!(!text.contains("B-2"), "{path} shows B's record");
        }
        let records = assert_json(app.get(&ta, "/api/v1/me/records").await, StatusCode::OK).await;
        assert_eq!(records.as_array().unwrap().len(), 1, "only A's own record");

        // B's access log shows nothing new: A's reads touched only A.
        let b_log = assert_json(app.get(&tb, "/api/v1/me/access-log").await, StatusCode::OK).await;
        assert_eq!(b_log, b_log_before);

        // No token, or a bad one: refused, nothing read or written.
        let before = audit_size(&app).await;
        for path in ENDPOINTS {
            let res = app.client.get(app.url(path)).send().await.unwrap();
            assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
            assert_problem(
                app.get("not-a-token", path).await,
                StatusCode::UNAUTHORIZED,
                "token_malformed",
            )
            .await;
        }
        assert_eq!(audit_size(&app).await, before);
    })
    .await;
}
