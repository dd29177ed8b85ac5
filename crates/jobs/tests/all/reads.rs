//! Reads of personal data are audited: the entry is durable when the read
//! returns, lands in the hash chain (sealed by `audit verify` at the
//! latest), and never waits for a write transaction in progress.

use std::sync::Arc;
use std::time::Duration;

use chengxin_jobs::audit::{record_read, verify};
use chengxin_jobs::uow::Change;
use chengxin_jobs::{explain, store_chunk, Context};
use chengxin_store::Cause;
use chengxin_testkit::{backends, id_number, record};
use serde_json::json;

#[test]
fn a_read_is_audited_in_the_chain_without_waiting_for_a_writer() {
    for db in backends() {
        let ctx = Arc::new(Context::new(Arc::from(db.open())).unwrap());
        let id = id_number("330602", "19800101", 1);
        let row = record(
            "SX",
            "h1",
            id,
            "某人",
            "B03",
            json!({"region_code": "330602", "registered_on": "1990-01-01", "active": true}),
        );
        store_chunk(&ctx, &[row], &Change::bulk(Cause::Import, "test")).unwrap();
        let before = verify(&ctx, None).unwrap().entries;

        // A write unit of work stays open while people are read.
        let (hold, release) = std::sync::mpsc::channel::<()>();
        let (opened, wait_open) = std::sync::mpsc::channel::<()>();
        let writer_ctx = Arc::clone(&ctx);
        let writer = std::thread::spawn(move || {
            let tx = writer_ctx.store.write().unwrap();
            opened.send(()).unwrap();
            let _ = release.recv_timeout(Duration::from_secs(30));
            drop(tx);
        });
        wait_open.recv().unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        let reader_ctx = Arc::clone(&ctx);
        std::thread::spawn(move || {
            let x = explain(&reader_ctx, &id, chengxin_jobs::today())
                .unwrap()
                .unwrap();
            for i in 0..3 {
                let req = format!("req-{i}");
                record_read(
                    &reader_ctx,
                    "test:reader",
                    &x.index,
                    x.person_id,
                    Some(&req),
                    "score",
                )
                .unwrap();
            }
            done.send(()).unwrap();
        });
        let waited = finished.recv_timeout(Duration::from_secs(20));
        hold.send(()).unwrap();
        writer.join().unwrap();
        assert!(
            waited.is_ok(),
            "{}: audited reads waited for the writer",
            db.url
        );

        let report = verify(&ctx, None).unwrap();
        assert_eq!(report.entries, before + 3, "{}", db.url);
        let mut tx = ctx.store.read().unwrap();
        let reads: Vec<_> = tx
            .audit_entries(before, 10)
            .unwrap()
            .into_iter()
            .filter(|e| e.event.action == "person.read")
            .collect();
        assert_eq!(reads.len(), 3, "{}", db.url);
        assert!(reads.iter().all(|e| e.event.person.is_some()));
    }
}
