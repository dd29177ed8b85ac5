//! Where import CPU goes before the database: reading lines and validating
//! them, on one thread.
//!
//! `cargo run --release -p chengxin-ingest --example validate_bench -- FILE.jsonl`

use std::sync::Arc;
use std::time::{Duration, Instant};

use chengxin_domain::Catalogue;
use chengxin_ingest::{ChunkReader, Format, Validator};

fn main() {
    let path = std::env::args().nth(1).expect("usage: validate_bench FILE");
    let format = Format::from_path(path.as_ref()).unwrap_or(Format::Jsonl);
    let validator = Validator::any_unit(Arc::new(Catalogue::builtin()));
    let file =
        std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&path).expect("open"));
    let mut reader =
        ChunkReader::new(file, format, 20_000, &validator.required_columns()).expect("reader");
    let header = reader.header.clone();
    let (mut reading, mut validating) = (Duration::ZERO, Duration::ZERO);
    let (mut ok, mut bad) = (0u64, 0u64);
    loop {
        let t = Instant::now();
        let Some(chunk) = reader.next_chunk().expect("read") else {
            break;
        };
        reading += t.elapsed();
        let t = Instant::now();
        for line in &chunk {
            match validator.validate(line, header.as_deref()) {
                Ok(_) => ok += 1,
                Err(_) => bad += 1,
            }
        }
        validating += t.elapsed();
    }
    let rows = (ok + bad) as f64;
    println!(
        "{ok} valid, {bad} rejected; reading {:.2} s ({:.2} µs/row), validating {:.2} s ({:.2} µs/row) on one thread",
        reading.as_secs_f64(),
        reading.as_secs_f64() * 1e6 / rows,
        validating.as_secs_f64(),
        validating.as_secs_f64() * 1e6 / rows,
    );
}
