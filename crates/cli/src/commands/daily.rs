//! `chengxin daily [--as-of DATE] [--json]`: the daily run, by hand.

use std::process::ExitCode;

use chengxin_jobs::daily::{daily, DailyOutcome};
use chengxin_jobs::Context;
use serde_json::json;

use crate::args::DailyArgs;

/// Runs the date (today in Asia/Shanghai unless `--as-of`) and prints what it did.
pub fn run(ctx: &Context, a: &DailyArgs) -> anyhow::Result<ExitCode> {
    let as_of = a.as_of.unwrap_or_else(chengxin_jobs::today);
    let owner = format!("{} (cli pid {})", ctx.actor(), std::process::id());
    match daily(ctx, as_of, &owner)? {
        DailyOutcome::Ran(s) => {
            if a.json {
                let mut v = serde_json::to_value(&s)?;
                v["ran"] = json!(true);
                println!("{v}");
            } else {
                let previous = s
                    .previous
                    .map_or_else(|| "none".to_owned(), |d| d.to_string());
                println!(
                    "daily run as of {as_of} (previous {previous}): {} people touched, {} rescored, \
                     {} changed, {} objections newly overdue in {:.3} s",
                    s.touched, s.rescored, s.changed, s.overdue_marked, s.seconds
                );
            }
        }
        DailyOutcome::AlreadyClaimed { date, owner } => {
            if a.json {
                println!(
                    "{}",
                    json!({"as_of": date.to_string(), "ran": false, "claimed_by": owner})
                );
            } else {
                println!(
                    "每日任务 {date} 已运行过，未做任何事 / the daily run of {date} was already claimed \
                     by {owner}; nothing done"
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
