//! `chengxin party …`: authorised parties (授权主体) and their API keys.

use std::process::ExitCode;

use chengxin_jobs::{parties, Context};

use crate::args::PartyCommand;

/// Runs a party subcommand.
pub fn run(ctx: &Context, cmd: PartyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PartyCommand::Add {
            code,
            name,
            kind,
            purposes,
            json,
        } => {
            let (p, key) = parties::add_party(ctx, &code, &name, &kind, &purposes, ctx.actor())?;
            if json {
                println!("{}", serde_json::json!({"code": p.code, "key": key}));
            } else {
                println!(
                    "created party {} ({}, {}) for purposes {}",
                    p.code,
                    p.name,
                    p.kind,
                    p.purposes.join(",")
                );
                println!("API key (shown once, keep it secret): {key}");
            }
        }
        PartyCommand::List { json } => {
            let all = parties::list_parties(ctx)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                for p in all {
                    let state = if p.disabled { "disabled" } else { "active" };
                    println!(
                        "{:<14} {:<9} {:<10} {:<40} {}",
                        p.code,
                        state,
                        p.kind,
                        p.purposes.join(","),
                        p.name
                    );
                }
            }
        }
        PartyCommand::RotateKey { code, json } => {
            let key = parties::rotate_key(ctx, &code, ctx.actor())?;
            if json {
                println!("{}", serde_json::json!({"code": code, "key": key}));
            } else {
                println!("new API key for {code} (the old one no longer works): {key}");
            }
        }
        PartyCommand::Disable { code } => {
            parties::disable_party(ctx, &code, ctx.actor())?;
            println!("party {code} disabled");
        }
    }
    Ok(ExitCode::SUCCESS)
}
