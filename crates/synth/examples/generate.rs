//! Writes a synthetic population to stdout (or times it with `--bench`):
//! `cargo run --release -p chengxin-synth --example generate -- 1000000 [seed] [--bench]`.

use std::io::{self, Write};
use std::time::Instant;

use chengxin_synth::{generate, GenerateOptions};

/// Counts bytes and drops them, to time generation without the disk.
struct Sink(u64);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| {
        args.iter()
            .filter(|a| !a.starts_with("--"))
            .nth(i)
            .map_or(default, |a| a.parse().expect("a whole number"))
    };
    let opts = GenerateOptions {
        residents: number(0, 1000),
        seed: number(1, 1),
        as_of: jiff::civil::date(2026, 6, 1),
    };
    if args.iter().any(|a| a == "--bench") {
        let start = Instant::now();
        let mut sink = Sink(0);
        let stats = generate(&opts, &mut sink)?;
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "{} residents, {} records, {:.1} MB in {secs:.2} s ({:.0} records/s)",
            stats.residents,
            stats.records,
            sink.0 as f64 / 1e6,
            stats.records as f64 / secs
        );
    } else {
        generate(&opts, io::stdout().lock())?;
    }
    Ok(())
}
