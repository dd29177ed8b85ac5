//! `chengxin staff …`: agency staff accounts. Passwords come from standard
//! input only and are never echoed, logged or taken as an argument.

use std::io::BufRead as _;
use std::process::ExitCode;

use anyhow::Context as _;
use chengxin_domain::staff::Role;
use chengxin_jobs::{staff, Context};

use crate::args::StaffCommand;

/// Runs a staff subcommand.
pub fn run(ctx: &Context, cmd: StaffCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        StaffCommand::Add {
            name,
            role,
            password_stdin: _,
        } => {
            let role = Role::parse(&role).context("the role is admin, reviewer or auditor")?;
            let password = read_password()?;
            let m = staff::add_staff(ctx, &name, role, &password, ctx.actor(), staff::now())?;
            println!("created staff member {} ({})", m.name, m.role);
        }
        StaffCommand::List { json } => {
            let all = staff::list_staff(ctx)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                for m in all {
                    let state = if m.disabled { "disabled" } else { "active" };
                    println!("{:<32} {:<9} {}", m.name, m.role.as_str(), state);
                }
            }
        }
        StaffCommand::Disable { name } => {
            staff::disable_staff(ctx, &name, ctx.actor())?;
            println!("staff member {name} disabled; their sessions have ended");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The first line of standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(
        !password.is_empty(),
        "no password on standard input (pipe it in: --password-stdin)"
    );
    Ok(password)
}
