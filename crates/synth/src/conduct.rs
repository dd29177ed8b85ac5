//! Commitments and conduct (C01, P01, S01): signed commitments, administrative
//! penalties (some inside a commitment's term, i.e. breaches) and serious
//! dishonesty list entries.

use rand::Rng;

use crate::calendar::{Day, Span};
use crate::civic::Engagement;
use crate::json::Lines;
use crate::person::Person;
use crate::places::{Enforcer, ENFORCERS, LISTS, TAX, TRAFFIC};
use crate::population::Context;
use crate::rates::{self, weighted};

/// Templates T01 遵纪守法, T02 诚信纳税, T03 文明交通, with the one
/// enforcement field T02 and T03 watch (T01 watches all of them).
const TEMPLATES: [(&str, Option<usize>); 3] =
    [("T01", None), ("T02", Some(TAX)), ("T03", Some(TRAFFIC))];
/// How often each template is signed.
const TEMPLATE_WEIGHTS: [u32; 3] = [50, 20, 30];
/// The default templates' term.
const TERM_MONTHS: i32 = 12;

/// A signed commitment: template index and signing date.
#[derive(Clone, Copy)]
struct Signed {
    template: usize,
    on: Day,
}

pub(crate) fn write(
    ctx: &Context,
    p: &Person,
    engagement: Engagement,
    rng: &mut impl Rng,
    lines: &mut Lines,
) {
    let penalised = rng.gen_bool(rates::PENALISED);
    let mut signs = if penalised {
        rates::COMMITTED_AFTER_PENALTY
    } else {
        rates::COMMITTED
    };
    let mut counts = [55, 30, 15];
    if let Some(profile) = engagement.profile() {
        signs = signs.max(profile.committed);
        counts = profile.commitments;
    }
    let mut signed = [Signed {
        template: 0,
        on: ctx.as_of,
    }; 3];
    let mut count = 0;
    if rng.gen_bool(signs) {
        count = commitments(ctx, p, rng, lines, &counts, &mut signed);
    }
    if penalised {
        penalties(ctx, p, rng, lines, &signed[..count]);
    }
    if rng.gen_bool(rates::LISTED) {
        listing(ctx, p, rng, lines);
    }
}

/// 1–3 C01 signatures over the last four years, how many drawn with
/// `counts`; returns how many.
fn commitments(
    ctx: &Context,
    p: &Person,
    rng: &mut impl Rng,
    lines: &mut Lines,
    counts: &[u32; 3],
    signed: &mut [Signed; 3],
) -> usize {
    let Some(window) = ctx.last_years(4).not_before(p.adult_since) else {
        return 0;
    };
    let count = rates::count(rng, counts) as usize;
    for s in signed.iter_mut().take(count) {
        *s = Signed {
            template: rates::index(rng, &TEMPLATE_WEIGHTS),
            on: window.pick(rng),
        };
    }
    signed[..count].sort_by_key(|s| s.on);
    for (n, s) in signed[..count].iter().enumerate() {
        lines.begin(p, "SX-DRC", "C01", n as u32 + 1);
        lines.text("template", TEMPLATES[s.template].0);
        lines.date("signed_on", s.on);
        lines.end();
    }
    count
}

/// 1–3 P01 penalties over the last four years; with signed commitments the
/// first may be a breach: general or serious, monitored by the template,
/// inside the term.
fn penalties(ctx: &Context, p: &Person, rng: &mut impl Rng, lines: &mut Lines, signed: &[Signed]) {
    let Some(window) = ctx.last_years(4).not_before(p.adult_since) else {
        return;
    };
    let count = rates::count(rng, &[80, 15, 5]);
    for n in 1..=count {
        let breach = if n == 1 && !signed.is_empty() && rng.gen_bool(rates::BREACH) {
            Some(rates::one_of(rng, signed))
        } else {
            None
        };
        let (level, enforcer, decided_on) = match breach {
            Some(s) => {
                let term = Span {
                    first: s.on,
                    last: s.on.add_months(TERM_MONTHS).plus(-1).min(ctx.as_of),
                };
                let level = if rng.gen_bool(0.75) {
                    "general"
                } else {
                    "serious"
                };
                let enforcer = match TEMPLATES[s.template].1 {
                    Some(watched) => &ENFORCERS[watched],
                    None => weighted(rng, ENFORCERS, |e| e.weight),
                };
                (level, enforcer, term.pick(rng))
            }
            None => {
                let levels = [("minor", 45), ("general", 45), ("serious", 10)];
                let level = weighted(rng, &levels, |l| l.1).0;
                let enforcer = weighted(rng, ENFORCERS, |e| e.weight);
                (level, enforcer, window.pick(rng))
            }
        };
        penalty(p, rng, lines, n, level, enforcer, decided_on);
    }
}

fn penalty(
    p: &Person,
    rng: &mut impl Rng,
    lines: &mut Lines,
    n: u32,
    level: &str,
    enforcer: &Enforcer,
    decided_on: Day,
) {
    let district = (!rng.gen_bool(0.4)).then(|| p.district(rng));
    let year = decided_on.ymd().0;
    let number = rng.gen_range(1..=3000);
    lines.begin(p, enforcer.unit, "P01", n);
    lines.text("level", level);
    lines.date("decided_on", decided_on);
    match district {
        Some(d) => {
            lines.text_parts(
                "authority",
                &[enforcer.district_prefix, d.name, enforcer.district_suffix],
            );
            let case = format!("{}{}罚〔{year}〕{number}号", d.abbr, enforcer.case_code);
            lines.text("case_no", &case);
        }
        None => {
            lines.text("authority", enforcer.city);
            let case = format!("绍{}罚〔{year}〕{number}号", enforcer.case_code);
            lines.text("case_no", &case);
        }
    }
    lines.text("domain", enforcer.domain);
    lines.end();
}

/// One S01 entry in the last five years; half removed since.
fn listing(ctx: &Context, p: &Person, rng: &mut impl Rng, lines: &mut Lines) {
    let Some(window) = ctx.last_years(5).not_before(p.adult_since) else {
        return;
    };
    let (list_type, unit, _) = *weighted(rng, LISTS, |l| l.2);
    let listed_on = window.pick(rng);
    let removed = rng.gen_bool(rates::LIST_REMOVED) && listed_on < ctx.as_of;
    lines.begin(p, unit, "S01", 1);
    lines.text("list_type", list_type);
    lines.date("listed_on", listed_on);
    if removed {
        let after = Span {
            first: listed_on.plus(1),
            last: ctx.as_of,
        };
        lines.date("removed_on", after.pick(rng));
    }
    lines.end();
}
