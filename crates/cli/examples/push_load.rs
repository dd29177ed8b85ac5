//! Load generator for benchmarks: single-record pushes at a fixed rate from
//! a separate process, measuring latency from each request's scheduled start
//! (so a slow server cannot hide its queueing). No HTTP library: plain
//! HTTP/1.1 keep-alive over TCP.
//!
//! `push_load ADDR KEY ID_FILE RATE SECONDS [CONNECTIONS]`
//!
//! ID_FILE holds one synthetic ID number per line; each request pushes a new
//! P01 record (a unique source_id) for the next ID in turn.

#[path = "common/http.rs"]
mod http;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: push_load ADDR KEY ID_FILE RATE SECONDS [CONNECTIONS]");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let key = args[2].clone();
    let ids: Vec<String> = std::fs::read_to_string(&args[3])
        .expect("id file")
        .lines()
        .map(str::to_owned)
        .collect();
    let rate: f64 = args[4].parse().expect("rate");
    let seconds: f64 = args[5].parse().expect("seconds");
    let conns: usize = args.get(6).and_then(|c| c.parse().ok()).unwrap_or(32);
    let total = (rate * seconds) as usize;
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let errors = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(ids);
    let tag = std::process::id();
    let start = Instant::now() + Duration::from_millis(200);
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let (next, latencies, errors, ids, addr, key) =
                (next.clone(), latencies.clone(), errors.clone(), ids.clone(), addr.clone(), key.clone());
            std::thread::spawn(move || {
                let mut stream = http::connect(&addr);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let due = start + Duration::from_secs_f64(i as f64 / rate);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    let id = &ids[i % ids.len()];
                    let body = format!(
                        r#"{{"source_id":"LOAD-{tag}-{i}","item":"P01","id_number":"{id}","fields":{{"level":"minor","decided_on":"2026-01-05","authority":"绍兴市税务局","case_no":"绍税罚〔2026〕{i}号","domain":"tax"}}}}"#
                    );
                    let head = format!(
                        "POST /api/v1/records HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json"
                    );
                    let ok = http::exchange(&mut stream, &head, &body).unwrap_or_else(|_| {
                        stream = http::connect(&addr);
                        http::exchange(&mut stream, &head, &body).unwrap_or(false)
                    });
                    let latency = due.elapsed();
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    latencies.lock().expect("lock").push(latency);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut l = latencies.lock().expect("lock").clone();
    let spread = http::percentiles(&mut l);
    println!(
        "{} requests in {:.1} s ({:.0}/s achieved, {} errors): {spread}",
        l.len(),
        elapsed,
        l.len() as f64 / elapsed,
        errors.load(Ordering::Relaxed),
    );
}
