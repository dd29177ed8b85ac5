//! What the load generators share: a keep-alive TCP connection, one HTTP/1.1
//! exchange read to its end, and latency percentiles. No HTTP library, so
//! the generator itself costs little of the machine it measures.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A connection with Nagle's algorithm off.
pub fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// Sends `head` (request line and headers, without the blank line) and
/// `body`, reads the whole response; true on 2xx.
pub fn exchange(stream: &mut TcpStream, head: &str, body: &str) -> std::io::Result<bool> {
    write!(
        stream,
        "{head}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
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

/// `p50 …, p90 …, p99 …, max …` in milliseconds of `latencies` (sorted here).
pub fn percentiles(latencies: &mut [Duration]) -> String {
    latencies.sort();
    let pct = |q: f64| {
        latencies[((latencies.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0
    };
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    )
}
