//! `chengxin score`: one person's score and why.

use std::process::ExitCode;

use anyhow::Context as _;
use chengxin_domain::IdNumber;
use chengxin_jobs::{Context, Explained};

use crate::args::ScoreArgs;

/// Runs `chengxin score`.
pub fn run(ctx: &Context, a: &ScoreArgs) -> anyhow::Result<ExitCode> {
    let id =
        IdNumber::parse(a.id_number.trim()).with_context(|| "not a valid ID number".to_string())?;
    let as_of = a.as_of.unwrap_or_else(chengxin_jobs::today);
    let Some(x) = chengxin_jobs::explain(ctx, &id, as_of)? else {
        // Learning that someone is unknown is a read of personal data too.
        chengxin_jobs::audit::record_not_found(ctx, ctx.actor(), &id, None, "score explanation")?;
        anyhow::bail!("查无此人 no records for {}", id.masked());
    };
    // Reading a person's data is itself audited.
    chengxin_jobs::audit::record_read(
        ctx,
        ctx.actor(),
        &x.index,
        x.person_id,
        None,
        "score explanation",
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&x.json(&id))?);
    } else {
        print_human(&id, &x);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_human(id: &IdNumber, x: &Explained) {
    let e = &x.evaluation();
    println!(
        "{}  截至 as of {}  模型 model {}",
        id.masked(),
        e.as_of,
        e.model_version
    );
    if !e.eligible {
        println!("无诚信分 No score:");
        for r in &e.reasons {
            println!("  {}  {} / {}", r.code, r.zh, r.en);
        }
        return;
    }
    println!(
        "诚信分 Score {}   等级 Grade {} {} / {}",
        e.score.unwrap_or(0),
        e.grade.unwrap_or("-"),
        e.grade_zh.unwrap_or(""),
        e.grade_en.unwrap_or("")
    );
    println!(
        "\n{:<30} {:>6} {:>6}  records",
        "指标 indicator", "points", "best"
    );
    for c in &e.contributions {
        let recs = c
            .records
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        println!(
            "  {:<28} {:>6} {:>6}  {recs}",
            format!("{} {}", c.indicator, c.name_zh),
            c.points,
            c.best
        );
    }
    if !e.factors.is_empty() {
        println!("\n影响因素 What held the score back:");
        for (i, f) in e.factors.iter().enumerate() {
            println!("  {}. [{}] −{}  {} / {}", i + 1, f.code, f.gap, f.zh, f.en);
        }
    }
    if let Some(s) = &x.stored {
        println!(
            "\n已存 Stored: {} ({}) as of {} under {}",
            s.state.score.map_or("-".into(), |v| v.to_string()),
            s.state.grade.as_deref().unwrap_or("-"),
            s.as_of,
            s.model_version
        );
    }
}
