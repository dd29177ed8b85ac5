//! `chengxin model validate|simulate|publish|list`.

use std::process::ExitCode;

use anyhow::Context as _;
use chengxin_domain::Model;
use chengxin_jobs::Context;

use crate::args::ModelCommand;
use crate::progress::Bar;

/// Runs a model subcommand.
pub fn run(ctx: &Context, cmd: ModelCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ModelCommand::Validate { file } => {
            let text = read(&file)?;
            match Model::parse(&text, &*ctx.catalogue_now()?) {
                Ok(m) => {
                    println!(
                        "ok: model {} ({} indicators, hash {})",
                        m.version(),
                        m.doc.indicators.len(),
                        m.hash
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(errs) => {
                    for e in &errs.0 {
                        println!("{}: {}: {}", file.display(), e.path, e.message);
                    }
                    eprintln!("error: {} has {} error(s)", file.display(), errs.0.len());
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        ModelCommand::Simulate {
            file,
            as_of,
            movers,
            json,
        } => {
            let model = Model::parse(&read(&file)?, &*ctx.catalogue_now()?)?;
            let as_of = as_of.unwrap_or_else(chengxin_jobs::today);
            let sim = chengxin_jobs::simulate(ctx, &model, as_of, movers)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&sim)?);
            } else {
                print_simulation(&sim);
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Publish {
            file,
            effective,
            as_of,
        } => {
            let text = read(&file)?;
            let bar = Bar::new("publish");
            let as_of = as_of.unwrap_or_else(chengxin_jobs::today);
            let s = chengxin_jobs::publish(ctx, &text, effective, as_of, &bar)?;
            bar.finish();
            let m = Model::parse(&text, &*ctx.catalogue_now()?)?;
            println!(
                "published model {} effective {effective}: {} people rescored in {:.1} s ({} changed)",
                m.version(),
                s.persons,
                s.seconds,
                s.changed
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::List => {
            for m in chengxin_jobs::list_models(ctx)? {
                println!(
                    "{:<10} {:<8} effective {}  {}",
                    m.version,
                    m.status.as_str(),
                    m.effective_from,
                    &m.hash[..12.min(m.hash.len())]
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read(file: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

fn print_simulation(s: &chengxin_jobs::Simulation) {
    println!(
        "模拟 Simulation: {} → {} over {} people as of {}",
        s.old_version, s.new_version, s.persons, s.as_of
    );
    println!("\n等级 Grade        old        new     change");
    for (g, (o, n)) in &s.grades {
        println!("  {g:<12} {o:>8}   {n:>8}   {:>+8}", *n as i64 - *o as i64);
    }
    let cols: Vec<&String> = s.grades.keys().collect();
    println!("\n迁移矩阵 Transitions (rows: old, columns: new)");
    print!("  {:<12}", "");
    for c in &cols {
        print!("{c:>11}");
    }
    println!();
    for r in &cols {
        print!("  {r:<12}");
        for c in &cols {
            let n = s
                .transitions
                .get(*r)
                .and_then(|m| m.get(*c))
                .copied()
                .unwrap_or(0);
            print!("{n:>11}");
        }
        println!();
    }
    println!("\n分布 Distribution      old       new");
    println!("  mean            {:>8.1}  {:>8.1}", s.old.mean, s.new.mean);
    println!("  median          {:>8}  {:>8}", s.old.median, s.new.median);
    println!("  p10             {:>8}  {:>8}", s.old.p10, s.new.p10);
    println!("  p90             {:>8}  {:>8}", s.old.p90, s.new.p90);
    println!("\n变动最大 Largest movers");
    for m in &s.movers {
        let show = |v: Option<i32>| v.map_or("-".into(), |x| x.to_string());
        println!(
            "  {}  {:>5} → {:>5}  ({:+})",
            m.masked_id,
            show(m.old),
            show(m.new),
            m.delta
        );
    }
}
