//! Basic information (B01–B04): residence, civil capacity and the provincial
//! evaluation, which together decide eligibility and the base of the score.

use rand::Rng;

use crate::calendar::{Day, Span};
use crate::civic::Engagement;
use crate::json::Lines;
use crate::person::{Home, Person};
use crate::population::Context;
use crate::rates;

const PSB: &str = "SX-PSB";

/// B03 household registration and B04 residence permits.
pub(crate) fn residence(ctx: &Context, p: &Person, rng: &mut impl Rng, lines: &mut Lines) {
    match p.home {
        Home::Local(district) => {
            let active = p.minor || !rng.gen_bool(rates::MOVED_AWAY);
            registration(ctx, p, rng, lines, district.code, active);
        }
        Home::Outsider(code) => {
            if rng.gen_bool(rates::OUTSIDER_REGISTERED) {
                registration(ctx, p, rng, lines, code, true);
            }
            if rng.gen_bool(rates::PERMIT) {
                permits(ctx, p, rng, lines);
            }
        }
    }
}

fn registration(
    ctx: &Context,
    p: &Person,
    rng: &mut impl Rng,
    lines: &mut Lines,
    region: &str,
    active: bool,
) {
    let since_birth = Span {
        first: p.birth,
        last: ctx.as_of,
    };
    let registered_on = if rng.gen_bool(rates::REGISTERED_LATER) {
        since_birth.pick(rng)
    } else {
        p.birth.plus(rng.gen_range(0..=60)).min(ctx.as_of)
    };
    lines.begin(p, PSB, "B03", 1);
    lines.text("region_code", region);
    lines.date("registered_on", registered_on);
    lines.boolean("active", active);
    lines.end();
}

fn permits(ctx: &Context, p: &Person, rng: &mut impl Rng, lines: &mut Lines) {
    let years: i32 = rates::weighted(rng, &[(1, 2), (2, 3), (3, 5)], |t| t.1).0;
    if rng.gen_bool(rates::PERMIT_LAPSED) {
        // Ended in the last three years, before the as-of date.
        let ended = ctx.last_years(3).not_after(ctx.as_of.plus(-1));
        if let Some(ended) = ended {
            let until = ended.pick(rng);
            permit(p, lines, 1, until.plus(1).add_years(-years), until);
        }
        return;
    }
    let Some(current) = ctx.last_years(years as usize).not_before(p.birth) else {
        return;
    };
    let from = current.pick(rng);
    if rng.gen_bool(rates::PERMIT_RENEWED) {
        permit(p, lines, 2, from.add_years(-years), from.plus(-1));
    }
    permit(p, lines, 1, from, from.add_years(years).plus(-1));
}

fn permit(p: &Person, lines: &mut Lines, n: u32, from: Day, until: Day) {
    // A permit from before the holder was born would be nonsense: skip it.
    if from < p.birth {
        return;
    }
    lines.begin(p, PSB, "B04", n);
    lines.date("valid_from", from);
    lines.date("valid_until", until);
    lines.end();
}

/// B02 civil capacity: a few adults limited or without capacity, a few
/// declared (or restored to) full capacity.
pub(crate) fn capacity(ctx: &Context, p: &Person, rng: &mut impl Rng, lines: &mut Lines) {
    let Some(adult_life) = ctx.last_years(6).not_before(p.adult_since) else {
        return;
    };
    if rng.gen_bool(rates::INCAPACITY) {
        let capacity = if rng.gen_bool(0.7) { "limited" } else { "none" };
        capacity_row(p, lines, 1, capacity, adult_life.pick(rng));
    } else if rng.gen_bool(rates::CAPACITY_FULL) {
        let decided = adult_life.pick(rng);
        if decided > adult_life.first && rng.gen_bool(0.5) {
            // Restored: an earlier limitation, lifted by this decision.
            let before = Span {
                first: adult_life.first,
                last: decided.plus(-1),
            };
            capacity_row(p, lines, 1, "limited", before.pick(rng));
            capacity_row(p, lines, 2, "full", decided);
        } else {
            capacity_row(p, lines, 1, "full", decided);
        }
    }
}

fn capacity_row(p: &Person, lines: &mut Lines, n: u32, capacity: &str, decided_on: Day) {
    lines.begin(p, "SX-COURT", "B02", n);
    lines.text("capacity", capacity);
    lines.date("decided_on", decided_on);
    lines.end();
}

/// B01 provincial evaluation: almost every adult, mostly 800–849; half have
/// last year's evaluation on record as well. Core and active civic
/// participants are more often in the top band.
pub(crate) fn evaluation(
    ctx: &Context,
    p: &Person,
    engagement: Engagement,
    rng: &mut impl Rng,
    lines: &mut Lines,
) {
    if !rng.gen_bool(rates::EVALUATED) {
        return;
    }
    let Some(window) = ctx.last_years(2).not_before(p.adult_since) else {
        return;
    };
    let latest = window.pick(rng);
    if rng.gen_bool(rates::EVALUATED_BEFORE) {
        let previous = latest.add_years(-1);
        if previous >= p.adult_since {
            evaluation_row(p, lines, 2, score(rng), previous);
        }
    }
    let top = engagement
        .profile()
        .is_some_and(|profile| rng.gen_bool(profile.top_evaluation));
    let latest_score = if top {
        let (low, high, _) = rates::EVALUATION_BANDS[0];
        rng.gen_range(low..=high)
    } else {
        score(rng)
    };
    evaluation_row(p, lines, 1, latest_score, latest);
}

fn evaluation_row(p: &Person, lines: &mut Lines, n: u32, score: u64, on: Day) {
    lines.begin(p, "ZJ-CREDIT", "B01", n);
    lines.int("score", score);
    lines.date("evaluated_on", on);
    lines.end();
}

/// A provincial score, its band drawn from [`rates::EVALUATION_BANDS`];
/// 800–849 peaks in the middle, the other bands are flat.
fn score(rng: &mut impl Rng) -> u64 {
    let (low, high, _) = *rates::weighted(rng, &rates::EVALUATION_BANDS, |b| b.2);
    if low == 800 {
        return 800 + rng.gen_range(0..25) + rng.gen_range(0..25);
    }
    rng.gen_range(low..=high)
}
