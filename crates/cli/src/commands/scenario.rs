//! `chengxin scenario …`: 信易+ incentive scenarios from the operator's
//! console, through the same use cases as `POST /api/v1/staff/scenarios`.

use std::process::ExitCode;

use anyhow::Context as _;
use chengxin_jobs::scenarios::{self, CreateError, StoredScenario};
use chengxin_jobs::{staff, Context};

use crate::args::ScenarioCommand;

fn line(s: &StoredScenario) -> String {
    let sc = &s.scenario;
    let threshold = match &sc.threshold {
        chengxin_domain::scenario::Threshold::Grade(g) => format!("grade {g}+"),
        chengxin_domain::scenario::Threshold::Score(n) => format!("score {n}+"),
    };
    let state = if s.retired_at.is_some() {
        "retired"
    } else {
        "offered"
    };
    format!(
        "{:<20} {:<16} {:<15} {:<11} {}–{} {state}  {}",
        sc.code,
        sc.sector.code(),
        sc.benefit.kind.code(),
        threshold,
        sc.valid_from,
        sc.valid_until,
        sc.provider
    )
}

/// Runs a scenario subcommand.
pub fn run(ctx: &Context, cmd: ScenarioCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ScenarioCommand::Add { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            let input =
                scenarios::parse_input(&value).map_err(|e| anyhow::anyhow!("{e} ({})", e.code))?;
            match scenarios::create(ctx, &input, ctx.actor(), None, staff::now()) {
                Ok(s) => println!("registered {}", line(&s)),
                Err(CreateError::Invalid(errors)) => {
                    let what = if errors.not_incentive() {
                        "not an incentive (第十八条)"
                    } else {
                        "invalid"
                    };
                    for issue in &errors.0 {
                        eprintln!("{issue}");
                    }
                    anyhow::bail!("the scenario is {what}: {} problem(s)", errors.0.len());
                }
                Err(e) => return Err(e.into()),
            }
        }
        ScenarioCommand::List { json } => {
            let all = scenarios::list(ctx)?;
            if json {
                let rows: Vec<_> = all
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "code": s.scenario.code,
                            "provider": s.scenario.provider,
                            "sector": s.scenario.sector.code(),
                            "benefit": s.scenario.benefit,
                            "threshold": s.scenario.threshold,
                            "valid_from": s.scenario.valid_from.to_string(),
                            "valid_until": s.scenario.valid_until.to_string(),
                            "retired": s.retired_at.is_some(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for s in &all {
                    println!("{}", line(s));
                }
            }
        }
        ScenarioCommand::Retire { code } => {
            scenarios::retire(ctx, &code, ctx.actor(), None, staff::now())?;
            println!("scenario {code} retired");
        }
    }
    Ok(ExitCode::SUCCESS)
}
