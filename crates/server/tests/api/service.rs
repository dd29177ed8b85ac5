//! The service's own behaviour: health, request ids, unknown routes, methods,
//! the OpenAPI document, compression and graceful shutdown.

use reqwest::header::{ACCEPT_ENCODING, ALLOW, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::StatusCode;

use crate::helpers::{assert_json, assert_problem, on_each_backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_with_our_request_id_and_echoes_the_clients_apart() {
    on_each_backend(|app| async move {
        let res = app
            .client
            .get(app.url("/api/v1/health"))
            .send()
            .await
            .unwrap();
        let generated = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(generated.len(), 36, "a UUID: {generated}");
        let body = assert_json(res, StatusCode::OK).await;
        assert_eq!(body["status"], "ok");
        assert_eq!(body["model"], "2026.1");

        let res = app
            .client
            .get(app.url("/api/v1/health"))
            .header("x-request-id", "client-chosen-42")
            .send()
            .await
            .unwrap();
        // Ours is always our own; the client's comes back under its own name.
        assert_eq!(res.headers()["x-request-id"].len(), 36);
        assert_eq!(res.headers()["x-client-request-id"], "client-chosen-42");
        app.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_wrong_methods_are_problems() {
    on_each_backend(|app| async move {
        let res = app
            .client
            .get(app.url("/api/v1/nope"))
            .send()
            .await
            .unwrap();
        let body = assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        assert!(body["detail"].as_str().unwrap().contains("/api/v1/nope"));

        let res = app.client.get(app.url("/nope")).send().await.unwrap();
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;

        let res = app
            .client
            .delete(app.url("/api/v1/health"))
            .send()
            .await
            .unwrap();
        assert!(res.headers()[ALLOW].to_str().unwrap().contains("GET"));
        assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;

        let res = app
            .client
            .get(app.url("/api/v1/records"))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_the_generated_one_and_every_route_in_it_is_served() {
    on_each_backend(|app| async move {
        let res = app
            .client
            .get(app.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()[CONTENT_TYPE], "application/json");
        let served = assert_json(res, StatusCode::OK).await;
        assert_eq!(
            served,
            serde_json::to_value(chengxin_server::openapi()).unwrap()
        );
        assert_eq!(served["openapi"], "3.1.0");

        let paths = served["paths"].as_object().unwrap();
        for (path, item) in paths {
            let concrete = path
                .replace("{source_id}", "SRC-1")
                .replace("{id}", "no-such-batch");
            for method in ["get", "post"] {
                let Some(op) = item.get(method) else { continue };
                let req = match method {
                    "get" => app.client.get(app.url(&concrete)),
                    _ => app.client.post(app.url(&concrete)),
                };
                let res = req.send().await.unwrap();
                let status = res.status();
                let secured = op.get("security").is_some();
                if secured {
                    // Routed, and guarded: an anonymous call is refused, not unknown.
                    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
                } else if path == "/api/v1/staff/sessions" || path == "/api/v1/certificates/verify"
                {
                    // Public but needs a body: routed, and the empty body refused.
                    assert_problem(
                        res,
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "unsupported_media_type",
                    )
                    .await;
                } else {
                    assert_eq!(status, StatusCode::OK, "{method} {path}");
                }
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_are_compressed_when_the_client_accepts_it() {
    on_each_backend(|app| async move {
        let res = app
            .client
            .get(app.url("/api/v1/openapi.json"))
            .header(ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[CONTENT_ENCODING], "gzip");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_the_server_and_frees_the_port() {
    let app = TestApp::spawn(chengxin_testkit::TestDb::sqlite()).await;
    let base = app.base.clone();
    let client = app.client.clone();
    assert!(client
        .get(format!("{base}/api/v1/health"))
        .send()
        .await
        .is_ok());
    app.stop().await.unwrap();
    assert!(client
        .get(format!("{base}/api/v1/health"))
        .send()
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_requests_are_refused_before_anything_is_read() {
    on_each_backend(|app| async move {
        // No key at all, with a broken body: the key is checked first.
        let res = app
            .client
            .post(app.url("/api/v1/records"))
            .header(CONTENT_TYPE, "text/plain")
            .body("{")
            .send()
            .await
            .unwrap();
        let body = assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert!(body["detail"].as_str().unwrap().contains("Bearer"));

        // Not the Bearer scheme.
        let res = app
            .client
            .post(app.url("/api/v1/batches"))
            .header("Authorization", "Basic dXNlcjpwYXNz")
            .header(CONTENT_TYPE, "text/csv")
            .body("a,b\n")
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;

        let res = app
            .client
            .get(app.url("/api/v1/batches/x"))
            .header("Authorization", "Bearer ")
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    })
    .await;
}

/// The latest signed checkpoint is published without a key (a first one is
/// signed if there is none), then the one `audit checkpoint` wrote, which
/// verifies against the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_latest_audit_checkpoint_is_published() {
    on_each_backend(|app| async move {
        let res = app
            .client
            .get(app.url("/api/v1/audit/checkpoint"))
            .send()
            .await
            .unwrap();
        let first = assert_json(res, StatusCode::OK).await;
        assert_eq!(first["size"], 0);
        app.unit("SX-TAX", &["P01"]).await;
        let written = app
            .run(|ctx| chengxin_jobs::audit::checkpoint(ctx).unwrap())
            .await;
        let res = app
            .client
            .get(app.url("/api/v1/audit/checkpoint"))
            .send()
            .await
            .unwrap();
        let body = assert_json(res, StatusCode::OK).await;
        let published: chengxin_domain::audit::Checkpoint = serde_json::from_value(body).unwrap();
        assert_eq!(published, written);
        let verified = app
            .run(move |ctx| chengxin_jobs::audit::verify(ctx, Some(&published)).unwrap())
            .await;
        assert_eq!(verified.checkpoint_size, Some(written.size));
        app.stop().await.unwrap();
    })
    .await;
}
