//! `chengxin calendar …`: counting working days, showing and loading years.

use std::process::ExitCode;

use anyhow::Context as _;
use chengxin_jobs::calendar::{self, Origin};
use chengxin_jobs::Context;
use jiff::civil::Weekday;

use crate::args::CalendarCommand;

/// Runs a calendar subcommand.
pub fn run(ctx: &Context, cmd: CalendarCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CalendarCommand::AddWorkingDays { date, n, json } => {
            let d = calendar::add_working_days(ctx, date, n)?;
            if json {
                println!("{}", serde_json::to_string(&d)?);
            } else if d.provisional {
                println!("{} (provisional)", d.date);
            } else {
                println!("{}", d.date);
            }
        }
        CalendarCommand::Show { year, json } => {
            let v = calendar::year(ctx, year)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print!("{}", show(&v));
            }
        }
        CalendarCommand::Load { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let l = calendar::load(ctx, &text, ctx.actor())
                .with_context(|| format!("{} was not loaded", file.display()))?;
            let what = if l.replaced_loaded {
                " (replaces the year loaded before)"
            } else if l.overrides_shipped {
                " (overrides the shipped year)"
            } else {
                ""
            };
            println!(
                "已载入 {} 年日历 loaded the calendar of {}: {} holidays, {} make-up working days{what}",
                l.year, l.year, l.holidays, l.working_days
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn weekday(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "周一 Mon",
        Weekday::Tuesday => "周二 Tue",
        Weekday::Wednesday => "周三 Wed",
        Weekday::Thursday => "周四 Thu",
        Weekday::Friday => "周五 Fri",
        Weekday::Saturday => "周六 Sat",
        Weekday::Sunday => "周日 Sun",
    }
}

fn show(v: &calendar::YearView) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let Some(y) = &v.data else {
        let _ = writeln!(
            out,
            "{} 年无节假日数据，按周一至周五计算，期限为临时结果。\n\
             No calendar data for {}: Monday to Friday count and deadlines are provisional.",
            v.year, v.year
        );
        return out;
    };
    let origin = match v.origin {
        Origin::Loaded => "载入 loaded",
        _ => "内置 shipped",
    };
    let _ = writeln!(out, "{} 年 Year {} ({origin})", y.year, y.year);
    let _ = writeln!(out, "来源 Source: {}", y.source);
    let _ = writeln!(out, "放假 Public holidays:");
    for h in &y.holidays {
        let days = h.from.until(h.to).map_or(0, |s| s.get_days()) + 1;
        let _ = writeln!(
            out,
            "  {} – {}  {days:>2} 天 days  {} {}",
            h.from, h.to, h.name_zh, h.name_en
        );
    }
    let _ = writeln!(out, "调休上班 Make-up working days:");
    if y.working_days.is_empty() {
        let _ = writeln!(out, "  无 none");
    }
    for w in &y.working_days {
        let en = y
            .holidays
            .iter()
            .find(|h| h.name_zh == w.for_holiday)
            .map_or("", |h| h.name_en.as_str());
        let _ = writeln!(
            out,
            "  {}  {}  {} {en}",
            w.date,
            weekday(w.date.weekday()),
            w.for_holiday
        );
    }
    out
}
