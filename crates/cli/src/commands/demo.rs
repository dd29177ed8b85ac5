//! `chengxin demo`: a synthetic city end to end on the embedded SQLite store.

use std::process::ExitCode;

use anyhow::Context as _;
use chengxin_ingest::Format;
use chengxin_jobs::{ImportOptions, Target};
use chengxin_store::Cause;
use chengxin_synth::GenerateOptions;

use crate::args::DemoArgs;
use crate::progress::Bar;

/// Runs the demo.
pub fn run(a: &DemoArgs) -> anyhow::Result<ExitCode> {
    let as_of = chengxin_jobs::today();
    for suffix in ["", "-wal", "-shm", ".key"] {
        let mut p = a.file.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(&p);
    }
    let url = format!("sqlite://{}", a.file.display());
    let ctx = super::open(&url)?;
    println!(
        "诚信分演示 Chengxin demo: {} synthetic residents into {}",
        a.residents,
        a.file.display()
    );

    let data = a.file.with_extension("jsonl");
    let opts = GenerateOptions {
        residents: a.residents,
        seed: 2026,
        as_of,
    };
    let file = std::fs::File::create(&data)
        .with_context(|| format!("cannot create {}", data.display()))?;
    let stats = chengxin_synth::generate(&opts, file)?;
    println!(
        "1. generated {} records → {}",
        stats.records,
        data.display()
    );

    let input = std::io::BufReader::new(std::fs::File::open(&data)?);
    let bar = Bar::spinner("import");
    let opts = ImportOptions {
        format: Format::Jsonl,
        chunk: 20_000,
        errors: None,
        as_of,
    };
    let s = chengxin_jobs::import(&ctx, input, opts, &bar)?;
    bar.finish();
    println!(
        "2. imported: accepted {} duplicate {} corrected {} rejected {} in {:.1} s",
        s.accepted, s.duplicate, s.corrected, s.rejected, s.seconds
    );

    let bar = Bar::new("recompute");
    let r = chengxin_jobs::recompute(&ctx, Target::Everyone, as_of, Cause::Recompute, &bar)?;
    bar.finish();
    println!(
        "3. recomputed {} people as of {as_of} in {:.2} s",
        r.persons, r.seconds
    );

    let version = ctx.engine.model().version().to_owned();
    println!("\n诚信分等级分布 Grade distribution (model {version}):");
    super::print_grades(&ctx.store.grade_counts(&version)?);
    Ok(ExitCode::SUCCESS)
}
