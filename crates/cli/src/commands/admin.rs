//! `chengxin unit …`, `chengxin audit …` and `chengxin data-key …`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use chengxin_domain::audit::Checkpoint;
use chengxin_jobs::{audit, units, Context};

use crate::args::{AuditCommand, DataKeyCommand, UnitCommand};

/// Runs a unit subcommand.
pub fn unit(ctx: &Context, cmd: UnitCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UnitCommand::Add {
            code,
            name,
            items,
            json,
        } => {
            let (u, key) = units::add_unit(ctx, &code, &name, &items, ctx.actor())?;
            if json {
                println!("{}", serde_json::json!({"code": u.code, "key": key}));
            } else {
                println!(
                    "created unit {} ({}) for items {}",
                    u.code,
                    u.name,
                    u.items.join(",")
                );
                println!("API key (shown once, keep it secret): {key}");
            }
        }
        UnitCommand::List { json } => {
            let all = units::list_units(ctx)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                for u in all {
                    let state = if u.disabled { "disabled" } else { "active" };
                    println!(
                        "{:<14} {:<9} {:<24} {}",
                        u.code,
                        state,
                        u.items.join(","),
                        u.name
                    );
                }
            }
        }
        UnitCommand::RotateKey { code, json } => {
            let key = units::rotate_key(ctx, &code, ctx.actor())?;
            if json {
                println!("{}", serde_json::json!({"code": code, "key": key}));
            } else {
                println!("new API key for {code} (the old one no longer works): {key}");
            }
        }
        UnitCommand::Disable { code } => {
            units::disable_unit(ctx, &code, ctx.actor())?;
            println!("unit {code} disabled");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs an audit subcommand.
pub fn audit(ctx: &Context, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Verify { checkpoint } => {
            let cp: Option<Checkpoint> = checkpoint.as_deref().map(read_checkpoint).transpose()?;
            match audit::verify(ctx, cp.as_ref()) {
                Ok(r) => {
                    print!(
                        "audit log intact: {} entries, head {}, {} signed checkpoints verified",
                        r.entries, r.head, r.signed_checkpoints
                    );
                    match r.checkpoint_size {
                        Some(n) => println!(
                            ", extends the checkpoint at {n} ({} witness co-signatures verified)",
                            r.witnesses
                        ),
                        None => println!(),
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: audit log verification failed: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditCommand::Checkpoint => {
            let cp = audit::checkpoint(ctx)?;
            println!("{}", serde_json::to_string_pretty(&cp)?);
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Witness { checkpoint, key } => witness(&checkpoint, &key),
    }
}

fn read_checkpoint(path: &Path) -> anyhow::Result<Checkpoint> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a checkpoint", path.display()))
}

/// `audit witness`: co-signs a checkpoint with the witness's own key.
pub fn witness(checkpoint: &Path, key: &Path) -> anyhow::Result<ExitCode> {
    let mut cp = read_checkpoint(checkpoint)?;
    let seed = chengxin_store::crypto::load_key(key, "witness key", true)?;
    audit::witness(&mut cp, &seed)
        .with_context(|| format!("will not co-sign {}", checkpoint.display()))?;
    println!("{}", serde_json::to_string_pretty(&cp)?);
    Ok(ExitCode::SUCCESS)
}

/// Runs a data-key subcommand: opens the database with its key and the new
/// one beside it, and rotates (see `chengxin_jobs::keys`).
pub fn data_key(
    url: &str,
    keys: &chengxin_store::KeyConfig,
    actor: &str,
    cmd: DataKeyCommand,
) -> anyhow::Result<ExitCode> {
    let DataKeyCommand::Rotate {
        new_key_file,
        batch,
        max_batches,
    } = cmd;
    let store = chengxin_store::open_rotating(url, keys, &new_key_file)
        .with_context(|| format!("cannot open the database {}", super::redact(url)))?;
    let file = new_key_file.display().to_string();
    let summary = chengxin_jobs::keys::rotate(
        &*store,
        Some(&file),
        actor,
        chengxin_jobs::keys::RotateOptions { batch, max_batches },
    )?;
    if summary.switched {
        println!(
            "data key rotated from {} to {} ({} people, {} records re-encrypted in this run); \
             from now on only {} opens this database: set CHENGXIN_DATA_KEY_FILE to it \
             (数据密钥已轮换)",
            summary.old_key_id, summary.new_key_id, summary.people, summary.records, file
        );
    } else {
        println!(
            "data key rotation to {} in progress: {} people, {} records in {} batches; \
             run the same command again to continue (轮换未完成)",
            summary.new_key_id, summary.people, summary.records, summary.batches
        );
    }
    Ok(ExitCode::SUCCESS)
}
