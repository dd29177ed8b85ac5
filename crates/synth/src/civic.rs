//! Other information (O01–O04): honours, donations, volunteering and blood
//! donation, the records that add points.

use rand::Rng;

use crate::calendar::Span;
use crate::json::Lines;
use crate::person::Person;
use crate::places::{
    CHARITIES, COUNTY_TITLES, HONOURS, HONOUR_LEVELS, HONOUR_WEIGHTS, VOLUNTEER_ORGS,
};
use crate::population::Context;
use crate::rates::{self, weighted};

/// Round donation amounts in yuan, with relative weights.
const AMOUNTS: &[(u64, u32)] = &[
    (50, 10),
    (100, 20),
    (200, 15),
    (500, 20),
    (1000, 15),
    (1500, 5),
    (2000, 7),
    (5000, 5),
    (10_000, 2),
    (50_000, 1),
];

pub(crate) fn write(ctx: &Context, p: &Person, rng: &mut impl Rng, lines: &mut Lines) {
    if rng.gen_bool(rates::CIVIC) {
        let honour = rng.gen_bool(rates::CIVIC_HONOUR);
        let donation = rng.gen_bool(rates::CIVIC_DONATION);
        let volunteer = rng.gen_bool(rates::CIVIC_VOLUNTEER) || !(honour || donation);
        if let Some(window) = ctx.last_years(6).not_before(p.adult_since) {
            if honour {
                honours(p, rng, lines, window);
            }
        }
        if let Some(window) = ctx.last_years(4).not_before(p.adult_since) {
            if donation {
                donations(p, rng, lines, window);
            }
            if volunteer {
                volunteering(p, rng, lines, window);
            }
        }
    }
    let under_sixty = p.birth > ctx.as_of.add_years(-60);
    if under_sixty && rng.gen_bool(rates::BLOOD) {
        blood(ctx, p, rng, lines);
    }
}

/// O01: one honour, sometimes two; county-level ones are the most common.
fn honours(p: &Person, rng: &mut impl Rng, lines: &mut Lines, window: Span) {
    for n in 1..=rates::count(rng, &[85, 15]) {
        let level = rates::index(rng, &HONOUR_WEIGHTS);
        lines.begin(p, "SX-CIV", "O01", n);
        lines.text("level", HONOUR_LEVELS[level]);
        match HONOURS.get(level) {
            Some(titles) => lines.text("title", rates::one_of(rng, titles)),
            None => {
                let district = p.district(rng);
                let (prefix, short, suffix) = rates::one_of(rng, COUNTY_TITLES);
                let place = if short { district.short } else { district.name };
                lines.text_parts("title", &[prefix, place, suffix]);
            }
        }
        lines.date("awarded_on", window.pick(rng));
        lines.end();
    }
}

/// O02: 1–3 donations, mostly round sums, amounts with two decimals.
fn donations(p: &Person, rng: &mut impl Rng, lines: &mut Lines, window: Span) {
    for n in 1..=rates::count(rng, &[60, 30, 10]) {
        let cents = if rng.gen_bool(0.8) {
            weighted(rng, AMOUNTS, |a| a.1).0 * 100
        } else {
            rng.gen_range(1_000..=500_000)
        };
        lines.begin(p, "SX-CHARITY", "O02", n);
        lines.decimal("amount_cny", cents, 2);
        lines.date("donated_on", window.pick(rng));
        lines.text("recipient", rates::one_of(rng, CHARITIES));
        lines.end();
    }
}

/// O03: 1–4 volunteering records of 1 to 40 hours (a few long ones), to the tenth of an hour.
fn volunteering(p: &Person, rng: &mut impl Rng, lines: &mut Lines, window: Span) {
    for n in 1..=rates::count(rng, &[35, 30, 20, 15]) {
        let tenths = if rng.gen_bool(0.9) {
            rng.gen_range(10..=400)
        } else {
            rng.gen_range(400..=1200)
        };
        lines.begin(p, "SX-VOL", "O03", n);
        lines.decimal("hours", tenths, 1);
        lines.date("served_on", window.pick(rng));
        lines.text("organisation", rates::one_of(rng, VOLUNTEER_ORGS));
        lines.end();
    }
}

/// O04: 1–3 donations within four years, at least 190 days apart (whole
/// blood may be given every six months).
fn blood(ctx: &Context, p: &Person, rng: &mut impl Rng, lines: &mut Lines) {
    let Some(window) = ctx.last_years(4).not_before(p.adult_since) else {
        return;
    };
    let count = rates::count(rng, &[50, 30, 20]) as i32;
    let mut n = 0;
    // Oldest first, each early in its own 250-day slot back from the as-of date.
    for k in (0..count).rev() {
        let on = ctx.as_of.plus(-(k * 250 + rng.gen_range(0..60)));
        if on < window.first {
            continue;
        }
        n += 1;
        lines.begin(p, "SX-BLOOD", "O04", n);
        lines.date("donated_on", on);
        let ml = weighted(rng, &[(200, 3), (300, 3), (400, 4)], |v| v.1).0;
        lines.int("volume_ml", ml);
        lines.end();
    }
}
