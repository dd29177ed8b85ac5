//! Load generator for read benchmarks: `CONNECTIONS` keep-alive connections
//! each sending `GET PATH` back to back (closed loop) for `SECONDS`, with
//! `Authorization: Bearer TOKEN` taken in turn from TOKEN_FILE (one token per
//! line; `-` sends none; a PATH under `/portal` sends it as the portal's
//! session cookie instead). Prints requests/s and latency percentiles. A PATH
//! with `{id}` takes it from each line's second word (`TOKEN ID` lines). No HTTP
//! library: plain HTTP/1.1 over TCP, as `push_load`.
//!
//! `read_load ADDR PATH TOKEN_FILE SECONDS [CONNECTIONS]`

#[path = "common/http.rs"]
mod http;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: read_load ADDR PATH TOKEN_FILE SECONDS [CONNECTIONS]");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let path = args[2].clone();
    let tokens: Vec<String> = if args[3] == "-" {
        vec![String::new()]
    } else {
        std::fs::read_to_string(&args[3])
            .expect("token file")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_owned())
            .collect()
    };
    let seconds: f64 = args[4].parse().expect("seconds");
    let conns: usize = args.get(5).and_then(|c| c.parse().ok()).unwrap_or(32);
    let tokens = Arc::new(tokens);
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let (tokens, next, errors, stop, latencies, addr, path) = (
                tokens.clone(),
                next.clone(),
                errors.clone(),
                stop.clone(),
                latencies.clone(),
                addr.clone(),
                path.clone(),
            );
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                let mut stream = http::connect(&addr);
                while !stop.load(Ordering::Relaxed) {
                    let line = &tokens[next.fetch_add(1, Ordering::Relaxed) % tokens.len()];
                    let (token, id) = line.split_once(' ').unwrap_or((line.as_str(), ""));
                    let path = path.replace("{id}", id);
                    let t0 = Instant::now();
                    // The portal's pages take the token from the session
                    // cookie the sign-in leaves; the API from the header.
                    let auth = if token.is_empty() {
                        String::new()
                    } else if path.starts_with("/portal") {
                        format!("\r\nCookie: cx_resident={token}")
                    } else {
                        format!("\r\nAuthorization: Bearer {token}")
                    };
                    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}{auth}");
                    let ok = http::exchange(&mut stream, &head, "").unwrap_or_else(|_| {
                        stream = http::connect(&addr);
                        false
                    });
                    mine.push(t0.elapsed());
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies.lock().expect("lock").extend(mine);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("thread");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut l = latencies.lock().expect("lock").clone();
    let spread = http::percentiles(&mut l);
    println!(
        "GET {path}: {} requests in {:.1} s, {:.0} req/s, {} errors, {conns} connections: {spread}",
        l.len(),
        elapsed,
        l.len() as f64 / elapsed,
        errors.load(Ordering::Relaxed),
    );
}
