//! Benchmark (issue 10): score certificates signed and verified per second
//! on one core (one thread), through the use cases a party's request and
//! `POST /certificates/verify` run: `certificates::issue` (reads the stored
//! score and the signing key file, signs an EdDSA JWS) and
//! `certificates::verify` (reads the published key set, checks signature
//! and claims). A synthetic resident in a temporary SQLite database.
//!
//! `cargo run --release -p chengxin-jobs --example cert_bench -- [SECONDS]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use chengxin_jobs::certificates::{issue, rotate, verify, Ask, CertConfig};
use chengxin_jobs::uow::Change;
use chengxin_jobs::{store_chunk, Context};
use chengxin_store::Cause;
use chengxin_testkit::{id_number, record, TestDb};
use serde_json::json;

fn per_second(seconds: u64, mut op: impl FnMut()) -> (f64, u64) {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        op();
        n += 1;
    }
    (n as f64 / start.elapsed().as_secs_f64(), n)
}

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("SECONDS"))
        .unwrap_or(10);
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::new(Arc::from(db.open()))
        .unwrap()
        .with_certificates(CertConfig {
            city_url: "https://credit.sx.example".into(),
            city_code: "shaoxing".into(),
            keys_dir: Some(dir.path().join("cert-keys")),
        });
    let id = id_number("330602", "19900101", 1);
    let today = chengxin_jobs::today();
    let rows = vec![
        record(
            "SX-PSB",
            "b03",
            id,
            "测试甲",
            "B03",
            json!({"region_code": "330602", "registered_on": "2000-01-01", "active": true}),
        ),
        record(
            "ZJ-CREDIT",
            "b01",
            id,
            "测试甲",
            "B01",
            json!({"score": 820, "evaluated_on": today.to_string()}),
        ),
    ];
    store_chunk(&ctx, &rows, &Change::bulk(Cause::Import, "bench")).unwrap();
    chengxin_jobs::recompute(
        &ctx,
        chengxin_jobs::Target::Changed,
        today,
        Cause::Import,
        &(),
    )
    .unwrap();
    let index = ctx.store.keys().blind_index(id.as_str().as_bytes());
    let pid = ctx
        .store
        .read()
        .unwrap()
        .find_person(&index)
        .unwrap()
        .unwrap();
    let now = jiff::Timestamp::now().as_second();
    rotate(&ctx, now).unwrap();

    let mut last = String::new();
    let (signed, n) = per_second(seconds, || {
        last = issue(&ctx, pid, "bank-1", Ask::Grade, now).unwrap().jws;
    });
    println!("certificates signed (issue use case, 1 thread): {signed:.0}/s ({n} in {seconds} s)");
    let (verified, n) = per_second(seconds, || {
        let v = verify(&ctx, &last, now).unwrap();
        assert!(v.valid, "the certificate verifies");
    });
    println!(
        "certificates verified (verify use case, 1 thread): {verified:.0}/s ({n} in {seconds} s)"
    );
}
