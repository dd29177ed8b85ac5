//! `chengxin catalogue|templates validate|publish|list`: the information
//! catalogue and the commitment templates as the agency's versioned data.

use std::process::ExitCode;

use anyhow::Context as _;
use chengxin_jobs::catalogue::{self, DataError, Kind};
use chengxin_jobs::Context;

use crate::args::DataCommand;

/// Runs a catalogue or templates subcommand.
pub fn run(ctx: &Context, kind: Kind, cmd: DataCommand) -> anyhow::Result<ExitCode> {
    let name = kind.as_str();
    match cmd {
        DataCommand::Validate { file } => {
            let text = read(&file)?;
            report(&file, catalogue::validate(ctx, kind, &text), |c| {
                let records = match kind {
                    Kind::Catalogue => {
                        format!(", {} stored record versions fit it", c.records_checked)
                    }
                    Kind::Templates => String::new(),
                };
                println!(
                    "ok: {name} {} would be version {} (hash {}){records}",
                    c.label,
                    c.number,
                    &c.hash[..12]
                );
            })
        }
        DataCommand::Publish { file, effective } => {
            let text = read(&file)?;
            let actor = ctx.actor().to_owned();
            let published = catalogue::publish(ctx, kind, &text, effective, &actor);
            report(&file, published, |c| {
                println!(
                    "published {name} {} as version {} effective {effective} (hash {})",
                    c.label,
                    c.number,
                    &c.hash[..12]
                );
            })
        }
        DataCommand::List { json } => {
            let versions = catalogue::list(ctx, kind)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&versions)?);
            } else {
                for v in versions {
                    let at = jiff::Timestamp::from_second(v.published_at)
                        .map(|t| t.to_string())
                        .unwrap_or_default();
                    println!(
                        "{:>3} {:<10} effective {}  {}  by {} at {}{}",
                        v.number,
                        v.label,
                        v.effective_from,
                        &v.hash[..12.min(v.hash.len())],
                        v.published_by,
                        at,
                        if v.in_force { "  (in force)" } else { "" }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints every problem with its path (one per line) and fails, or runs `ok`.
fn report(
    file: &std::path::Path,
    result: Result<catalogue::Checked, DataError>,
    ok: impl FnOnce(&catalogue::Checked),
) -> anyhow::Result<ExitCode> {
    let (what, errors) = match result {
        Ok(c) => {
            ok(&c);
            return Ok(ExitCode::SUCCESS);
        }
        Err(DataError::Invalid(e)) => ("is not valid", e),
        Err(DataError::Refused(e)) => ("is refused: it does not fit the data in force", e),
        Err(e @ DataError::Exists { .. }) => anyhow::bail!("{e} (该版本号已发布)"),
        Err(DataError::Job(e)) => return Err(e.into()),
    };
    for e in &errors.0 {
        println!("{}: {}: {}", file.display(), e.path, e.message);
    }
    eprintln!(
        "error: {} {what} ({} error(s); 文件未通过校验，未发布)",
        file.display(),
        errors.0.len()
    );
    Ok(ExitCode::FAILURE)
}

fn read(file: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}
