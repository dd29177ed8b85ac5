//! Load generator for read benchmarks: `CONNECTIONS` keep-alive connections
//! each sending `GET PATH` back to back (closed loop) for `SECONDS`, with
//! `Authorization: Bearer TOKEN` taken in turn from TOKEN_FILE (one token per
//! line; `-` sends none). Prints requests/s and latency percentiles. No HTTP
//! library: plain HTTP/1.1 over TCP, as `push_load`.
//!
//! `read_load ADDR PATH TOKEN_FILE SECONDS [CONNECTIONS]`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
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
                let mut stream = connect(&addr);
                while !stop.load(Ordering::Relaxed) {
                    let token = &tokens[next.fetch_add(1, Ordering::Relaxed) % tokens.len()];
                    let t0 = Instant::now();
                    let ok = get(&mut stream, &addr, &path, token).unwrap_or_else(|_| {
                        stream = connect(&addr);
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
    l.sort();
    let pct = |q: f64| l[((l.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    println!(
        "GET {path}: {} requests in {:.1} s, {:.0} req/s, {} errors, {conns} connections: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        l.len(),
        elapsed,
        l.len() as f64 / elapsed,
        errors.load(Ordering::Relaxed),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
}

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// Sends one GET and reads the whole response; true on 2xx.
fn get(stream: &mut TcpStream, addr: &str, path: &str, token: &str) -> std::io::Result<bool> {
    let auth = if token.is_empty() {
        String::new()
    } else {
        format!("Authorization: Bearer {token}\r\n")
    };
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}\r\n")?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut buf = vec![0u8; length];
    reader.read_exact(&mut buf)?;
    Ok(status.split(' ').nth(1).is_some_and(|c| c.starts_with('2')))
}
