//! A bounded service over real HTTP: a half-sent request head is closed, a
//! key or unit cannot take more than its share, a unit disabled mid-batch
//! stops at the next chunk, a slow upload keeps its batch, and a CSV record
//! that never ends is cut at the record cap.

use std::time::Duration;

use bytes::Bytes;
use chengxin_jobs::units;
use chengxin_server::Limits;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::helpers::{
    assert_json, assert_problem, id, on_each_backend, on_each_backend_with, TestApp,
};

/// Rows per chunk in a batch (`CHUNK` in `chengxin-jobs`).
const CHUNK: usize = 2000;

fn b03_line(n: usize, source: &str) -> Vec<u8> {
    let mut l = serde_json::to_vec(&json!({
        "source_id": source, "item": "B03", "id_number": id(n as u32),
        "fields": {"region_code": "330602", "registered_on": "2000-01-01", "active": true},
    }))
    .unwrap();
    l.push(b'\n');
    l
}

fn lines(from: usize, to: usize) -> Vec<u8> {
    (from..to)
        .flat_map(|n| b03_line(n, &format!("L-{n}")))
        .collect()
}

/// A batch whose body the test sends piece by piece; the response comes
/// back through the join handle.
struct Streamed {
    tx: mpsc::Sender<Vec<u8>>,
    response: tokio::task::JoinHandle<reqwest::Response>,
}

impl Streamed {
    fn start(app: &TestApp, key: &str, idempotency_key: &str) -> Streamed {
        let (tx, rx) = mpsc::channel::<Vec<u8>>(16);
        let body = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|b| (Ok::<_, std::io::Error>(Bytes::from(b)), rx))
        });
        let req = app
            .client
            .post(app.url("/api/v1/batches"))
            .header("Authorization", format!("Bearer {key}"))
            .header("Content-Type", "application/x-ndjson")
            .header("Idempotency-Key", idempotency_key)
            .body(reqwest::Body::wrap_stream(body.boxed()));
        Streamed {
            tx,
            response: tokio::spawn(async move { req.send().await.unwrap() }),
        }
    }

    async fn send(&self, bytes: Vec<u8>) {
        self.tx.send(bytes).await.unwrap();
    }

    async fn finish(self) -> reqwest::Response {
        drop(self.tx);
        self.response.await.unwrap()
    }
}

/// Waits until the batch under `key` exists and has applied `lines` lines.
async fn wait_for_batch(app: &TestApp, unit: &str, key: &str, lines: i64) {
    for _ in 0..400 {
        let (unit, key) = (unit.to_owned(), key.to_owned());
        let row = app
            .run(move |ctx| ctx.store.read().unwrap().batch_by_key(&unit, &key).unwrap())
            .await;
        if row.is_some_and(|r| r.lines_done >= lines) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the batch {key} did not get to line {lines}");
}

async fn stored_cases(app: &TestApp, unit: &str, n: usize) -> usize {
    let unit = unit.to_owned();
    app.run(move |ctx| {
        let cases: Vec<String> = (0..n).map(|i| format!("L-{i}")).collect();
        let refs: Vec<(&str, &str)> = cases.iter().map(|c| (unit.as_str(), c.as_str())).collect();
        let heads = ctx.store.read().unwrap().record_heads(&refs).unwrap();
        assert!(heads.iter().flatten().all(|h| h.version == 1));
        heads.iter().flatten().count()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_head_and_an_idle_connection_are_closed() {
    let limits = || Limits {
        header_read: Duration::from_millis(300),
        ..Limits::default()
    };
    on_each_backend_with(limits, |app| async move {
        let addr = app.base.trim_start_matches("http://").to_owned();
        // Half a request head, then nothing.
        let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
        conn.write_all(b"POST /api/v1/batches HTTP/1.1\r\nHost: x\r\nContent-Ty")
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "the connection is still open after 5 s");
        assert!(started.elapsed() >= Duration::from_millis(250));

        // A finished exchange on a keep-alive connection, then silence.
        let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
        conn.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "the idle connection is still open after 5 s");
        assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_needs_an_idempotency_key() {
    on_each_backend(|app| async move {
        let (_, key) = app.unit("SX-PSB", &["B03"]).await;
        let res = app
            .client
            .post(app.url("/api/v1/batches"))
            .header("Authorization", format!("Bearer {key}"))
            .header("Content-Type", "application/x-ndjson")
            .body(lines(0, 3))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, "idempotency_key_required").await;
        assert_eq!(stored_cases(&app, "SX-PSB", 3).await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_disabled_mid_batch_stops_at_the_next_chunk() {
    on_each_backend(|app| async move {
        let (_, key) = app.unit("SX-PSB", &["B03"]).await;
        let batch = Streamed::start(&app, &key, "dis-1");
        batch.send(lines(0, CHUNK + 100)).await;
        // The first chunk is in; the unit is disabled while the second streams.
        wait_for_batch(&app, "SX-PSB", "dis-1", CHUNK as i64).await;
        app.run(|ctx| units::disable_unit(ctx, "SX-PSB", "operator:test").unwrap())
            .await;
        batch.send(lines(CHUNK + 100, 3 * CHUNK)).await;
        let res = batch.finish().await;
        let body = assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert!(
            body["detail"].as_str().unwrap().contains("through 2000"),
            "{body}"
        );
        assert_eq!(stored_cases(&app, "SX-PSB", 3 * CHUNK).await, CHUNK);
        // The stored receipt says so.
        let receipt = app
            .run(|ctx| {
                let row = ctx.store.read().unwrap().batch_by_key("SX-PSB", "dis-1");
                row.unwrap().unwrap()
            })
            .await;
        let receipt: Value = serde_json::from_str(receipt.receipt.as_deref().unwrap()).unwrap();
        assert_eq!(receipt["interrupted_by"], "unit_disabled");
        assert_eq!(receipt["applied_through_line"], CHUNK);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upload_keeps_its_lease_and_a_retry_with_another_body_is_refused() {
    let limits = || Limits {
        batch_lease: Duration::from_secs(1),
        ..Limits::default()
    };
    on_each_backend_with(limits, |app| async move {
        let (_, key) = app.unit("SX-PSB", &["B03"]).await;
        let slow = Streamed::start(&app, &key, "slow-1");
        slow.send(lines(0, 10)).await;
        wait_for_batch(&app, "SX-PSB", "slow-1", 0).await;
        // Well past the lease: only its renewal keeps the batch.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let other = lines(100, 110);
        let res = app
            .batch(&key, "application/x-ndjson", other.clone(), Some("slow-1"))
            .await;
        assert!(res.headers().contains_key("retry-after"));
        assert_problem(res, StatusCode::CONFLICT, "batch_in_progress").await;
        slow.send(lines(10, 20)).await;
        let receipt = assert_json(slow.finish().await, StatusCode::CREATED).await;
        assert_eq!(receipt["accepted"], 20);
        // Once complete, the other body is refused outright.
        let res = app
            .batch(&key, "application/x-ndjson", other, Some("slow-1"))
            .await;
        assert_problem(
            res,
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
        )
        .await;
        assert_eq!(stored_cases(&app, "SX-PSB", 200).await, 20);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_runs_at_most_its_share_of_batches() {
    let limits = || Limits {
        batches_per_unit: 2,
        ..Limits::default()
    };
    on_each_backend_with(limits, |app| async move {
        let (_, key) = app.unit("SX-PSB", &["B03"]).await;
        let (_, other) = app.unit("SX-OTHER", &["B03"]).await;
        let first = Streamed::start(&app, &key, "c-1");
        let second = Streamed::start(&app, &key, "c-2");
        first.send(lines(0, 1)).await;
        second.send(lines(1, 2)).await;
        wait_for_batch(&app, "SX-PSB", "c-1", 0).await;
        wait_for_batch(&app, "SX-PSB", "c-2", 0).await;
        let res = app
            .batch(&key, "application/x-ndjson", lines(2, 3), Some("c-3"))
            .await;
        assert_eq!(res.headers()["retry-after"], "5");
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_batches").await;
        // Another unit is not held up.
        let res = app
            .batch(&other, "application/x-ndjson", lines(3, 4), None)
            .await;
        assert_json(res, StatusCode::CREATED).await;
        assert_json(first.finish().await, StatusCode::CREATED).await;
        assert_json(second.finish().await, StatusCode::CREATED).await;
        let res = app
            .batch(&key, "application/x-ndjson", lines(2, 3), Some("c-3"))
            .await;
        assert_json(res, StatusCode::CREATED).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_has_at_most_its_share_of_requests_in_flight() {
    let limits = || Limits {
        per_key: 2,
        batches_per_unit: 8,
        ..Limits::default()
    };
    on_each_backend_with(limits, |app| async move {
        let (_, key) = app.unit("SX-PSB", &["B03"]).await;
        let (_, other) = app.unit("SX-OTHER", &["B03"]).await;
        let first = Streamed::start(&app, &key, "k-1");
        let second = Streamed::start(&app, &key, "k-2");
        first.send(lines(0, 1)).await;
        second.send(lines(1, 2)).await;
        wait_for_batch(&app, "SX-PSB", "k-1", 0).await;
        wait_for_batch(&app, "SX-PSB", "k-2", 0).await;
        let res = app.get(&key, "/api/v1/batches/nope").await;
        assert_eq!(res.headers()["retry-after"], "1");
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
        // Another key is not held up.
        let res = app.get(&other, "/api/v1/batches/nope").await;
        assert_problem(res, StatusCode::NOT_FOUND, "batch_not_found").await;
        assert_json(first.finish().await, StatusCode::CREATED).await;
        assert_json(second.finish().await, StatusCode::CREATED).await;
        let res = app.get(&key, "/api/v1/batches/nope").await;
        assert_problem(res, StatusCode::NOT_FOUND, "batch_not_found").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_record_that_never_ends_is_cut_at_the_record_cap() {
    on_each_backend(|app| async move {
        let (_, key) = app.unit("SX-PSB", &["B03"]).await;
        let mut body = format!(
            "source_id,item,id_number,fields.region_code,fields.registered_on,fields.active\n\
             L-0,B03,{},330602,2000-01-01,true\n\"L-1,B03,{},330602,2000-01-01,true\n",
            id(0),
            id(1)
        )
        .into_bytes();
        // 8 MB of rows inside the quote that never closes.
        while body.len() < 8 << 20 {
            body.extend_from_slice(
                format!("L-2,B03,{},330602,2000-01-01,true\n", id(2)).as_bytes(),
            );
        }
        let res = app.batch(&key, "text/csv", body, None).await;
        let receipt = assert_json(res, StatusCode::CREATED).await;
        assert_eq!(receipt["accepted"], 1, "{receipt}");
        assert_eq!(receipt["rejected"], 1);
        assert_eq!(receipt["errors"][0]["line"], 3);
        assert_eq!(receipt["errors"][0]["code"], "record_too_long");
        assert_eq!(stored_cases(&app, "SX-PSB", 3).await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_has_at_most_its_requests_in_flight() {
    let limits = || Limits {
        max_in_flight: 2,
        ..Limits::default()
    };
    on_each_backend_with(limits, |app| async move {
        let (_, key) = app.unit("SX-PSB", &["B03"]).await;
        let (_, other) = app.unit("SX-OTHER", &["B03"]).await;
        let first = Streamed::start(&app, &key, "g-1");
        let second = Streamed::start(&app, &key, "g-2");
        first.send(lines(0, 1)).await;
        second.send(lines(1, 2)).await;
        wait_for_batch(&app, "SX-PSB", "g-1", 0).await;
        wait_for_batch(&app, "SX-PSB", "g-2", 0).await;
        let res = app.get(&other, "/api/v1/batches/nope").await;
        assert_eq!(res.headers()["retry-after"], "1");
        assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "server_busy").await;
        assert_json(first.finish().await, StatusCode::CREATED).await;
        assert_json(second.finish().await, StatusCode::CREATED).await;
        let res = app.get(&other, "/api/v1/batches/nope").await;
        assert_problem(res, StatusCode::NOT_FOUND, "batch_not_found").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_batch_stops_at_the_next_chunk_and_its_retry_resumes() {
    let limits = || Limits {
        batch_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    on_each_backend_with(limits, |app| async move {
        let (_, key) = app.unit("SX-PSB", &["B03"]).await;
        let rows = 3 * CHUNK;
        let batch = Streamed::start(&app, &key, "t-1");
        batch.send(lines(0, CHUNK + 10)).await;
        wait_for_batch(&app, "SX-PSB", "t-1", CHUNK as i64).await;
        // The request times out while the second chunk is still arriving.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let _ = batch.tx.send(lines(CHUNK + 10, rows)).await;
        let res = batch.finish().await;
        assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
        // Its work stops before the next chunk: interrupted, nothing more stored.
        let mut row = None;
        for _ in 0..200 {
            let r = app
                .run(|ctx| {
                    let mut tx = ctx.store.read().unwrap();
                    tx.batch_by_key("SX-PSB", "t-1").unwrap().unwrap()
                })
                .await;
            if r.status == chengxin_jobs::batches::BatchStatus::Interrupted {
                row = Some(r);
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let row = row.expect("the timed-out batch is interrupted");
        assert_eq!(row.lines_done, CHUNK as i64);
        assert_eq!(stored_cases(&app, "SX-PSB", rows).await, CHUNK);
        // The same body again resumes after the first chunk.
        let res = app
            .batch(&key, "application/x-ndjson", lines(0, rows), Some("t-1"))
            .await;
        let receipt = assert_json(res, StatusCode::CREATED).await;
        assert_eq!(receipt["accepted"], rows);
        assert_eq!(receipt["duplicate"], 0);
        assert_eq!(stored_cases(&app, "SX-PSB", rows).await, rows);
    })
    .await;
}
