//! Benchmark (issue 6, item 5): explanations read per second with and
//! without an audit entry per read, in one run on one database. Audited
//! reads append their entry through `Store::append_reads`, which returns
//! only once the entry is durable and shares one commit among concurrent
//! readers.
//!
//! `cargo run --release -p chengxin-jobs --example read_bench -- DB_URL ID_FILE [THREADS] [SECONDS]`
//!
//! DB_URL holds an imported population (keys from CHENGXIN_DATA_KEY or the
//! key file, as for `chengxin`); ID_FILE has one of its ID numbers per line.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chengxin_domain::IdNumber;
use chengxin_jobs::Context;

fn run(ctx: &Context, ids: &[IdNumber], threads: usize, seconds: u64, audited: bool) -> f64 {
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (done, stop) = (&done, &stop);
            s.spawn(move || {
                let mut i = t * 7919;
                while !stop.load(Ordering::Relaxed) {
                    let id = &ids[i % ids.len()];
                    i += threads;
                    let x = chengxin_jobs::explain(ctx, id, chengxin_jobs::today())
                        .expect("explain")
                        .expect("known person");
                    std::hint::black_box(x.evaluation().score);
                    if audited {
                        chengxin_jobs::audit::record_read(
                            ctx,
                            "bench:reader",
                            &x.index,
                            x.person_id,
                            None,
                            "score explanation",
                        )
                        .expect("audit");
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
    });
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: read_bench DB_URL ID_FILE [THREADS] [SECONDS]");
        std::process::exit(2);
    }
    let threads: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(32);
    let seconds: u64 = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(10);
    let store = chengxin_store::open(&args[1]).expect("open the database");
    let ctx = Context::new(Arc::from(store)).expect("context");
    let ids: Vec<IdNumber> = std::fs::read_to_string(&args[2])
        .expect("id file")
        .lines()
        .filter_map(|l| IdNumber::parse(l.trim()).ok())
        .collect();
    let backend = ctx.store.backend();
    let plain = run(&ctx, &ids, threads, seconds, false);
    let audited = run(&ctx, &ids, threads, seconds, true);
    println!(
        "{backend}: {threads} threads, {seconds} s each: without audit {plain:.0} reads/s, \
         audited {audited:.0} reads/s ({:.0} %)",
        100.0 * audited / plain
    );
}
