//! generate, import, recompute.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use chengxin_ingest::Format;
use chengxin_jobs::{Context, ImportOptions, Target};
use chengxin_store::Cause;
use chengxin_synth::GenerateOptions;

use crate::args::{GenerateArgs, ImportArgs, RecomputeArgs};
use crate::progress::Bar;

/// `chengxin generate`.
pub fn generate(a: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let opts = GenerateOptions {
        residents: a.residents,
        seed: a.seed,
        as_of: a.as_of.unwrap_or_else(chengxin_jobs::today),
    };
    opts.check()?;
    let stats = if a.out.as_os_str() == "-" {
        chengxin_synth::generate(&opts, std::io::stdout().lock())?
    } else {
        let f =
            File::create(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
        chengxin_synth::generate(&opts, f)
            .with_context(|| format!("cannot write {}", a.out.display()))?
    };
    eprintln!(
        "generated {} residents, {} records",
        stats.residents, stats.records
    );
    Ok(ExitCode::SUCCESS)
}

/// `chengxin import`.
pub fn import(ctx: &Context, a: &ImportArgs) -> anyhow::Result<ExitCode> {
    let format = match &a.format {
        Some(f) => {
            Format::parse(f).with_context(|| format!("unknown format `{f}`: use jsonl or csv"))?
        }
        None => match Format::from_path(&a.file) {
            Some(f) => f,
            None => bail!(
                "cannot tell the format of {} from its extension: add --format jsonl|csv",
                a.file.display()
            ),
        },
    };
    let errors: Option<Box<dyn Write + Send>> = match &a.errors {
        Some(p) => Some(Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ))),
        None => None,
    };
    let opts = ImportOptions {
        format,
        chunk: a.chunk,
        errors,
        as_of: a.as_of.unwrap_or_else(chengxin_jobs::today),
    };
    let bar = Bar::spinner("import");
    let summary = if a.file.as_os_str() == "-" {
        chengxin_jobs::import(
            ctx,
            BufReader::with_capacity(1 << 20, std::io::stdin()),
            opts,
            &bar,
        )?
    } else {
        let f = File::open(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
        chengxin_jobs::import(ctx, BufReader::with_capacity(1 << 20, f), opts, &bar)?
    };
    bar.finish();
    let rows =
        summary.accepted + summary.duplicate + summary.corrected + summary.stale + summary.rejected;
    // `stale` only when there are any: older versions than stored (by the
    // unit's `source_version`), not applied.
    let stale = if summary.stale > 0 {
        format!("  stale {}", summary.stale)
    } else {
        String::new()
    };
    println!(
        "accepted {}  duplicate {}  corrected {}  rejected {}{stale}",
        summary.accepted, summary.duplicate, summary.corrected, summary.rejected
    );
    println!(
        "rescored {} people ({} scores changed) in {:.1} s, {:.0} rows/s",
        summary.rescored,
        summary.scores_changed,
        summary.seconds,
        rows as f64 / summary.seconds.max(1e-9)
    );
    for e in summary.first_errors.iter().take(5) {
        println!("  line {}: {} — {}", e.line, e.code, e.message);
    }
    if summary.rejected > 5 {
        println!(
            "  … {} rejected rows in all{}",
            summary.rejected,
            if a.errors.is_some() {
                " (see the errors file)"
            } else {
                "; use --errors FILE to keep them"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `chengxin recompute`.
pub fn recompute(ctx: &Context, a: &RecomputeArgs) -> anyhow::Result<ExitCode> {
    let as_of = a.as_of.unwrap_or_else(chengxin_jobs::today);
    let target = if a.changed_only {
        Target::Changed
    } else {
        Target::Everyone
    };
    let bar = Bar::new("recompute");
    let s = chengxin_jobs::recompute(ctx, target, as_of, Cause::Recompute, &bar)?;
    bar.finish();
    println!(
        "rescored {} people as of {as_of} with model {} in {:.1} s ({} scores changed)",
        s.persons,
        chengxin_jobs::model_in_force(ctx)?.version,
        s.seconds,
        s.changed
    );
    Ok(ExitCode::SUCCESS)
}
