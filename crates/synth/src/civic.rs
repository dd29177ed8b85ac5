//! Other information (O01–O04): honours, donations, volunteering and blood
//! donation, the records that add points. How many a person has follows
//! their civic [`Engagement`], drawn once per adult (see `rates`).

use rand::Rng;

use crate::calendar::Span;
use crate::json::Lines;
use crate::person::Person;
use crate::places::{
    CHARITIES, COUNTY_TITLES, HONOURS, HONOUR_LEVELS, HONOUR_WEIGHTS, VOLUNTEER_ORGS,
};
use crate::population::Context;
use crate::rates::{self, weighted, Profile};

/// How much a person takes part in civic life; the records that add points
/// cluster in the same people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engagement {
    None,
    Occasional,
    Active,
    Core,
}

impl Engagement {
    pub(crate) fn draw(rng: &mut impl Rng) -> Engagement {
        let r: f64 = rng.gen();
        if r < rates::CORE {
            Engagement::Core
        } else if r < rates::CORE + rates::ACTIVE {
            Engagement::Active
        } else if rng.gen_bool(rates::CIVIC) {
            Engagement::Occasional
        } else {
            Engagement::None
        }
    }

    /// The profile of the core and active levels.
    pub(crate) fn profile(self) -> Option<&'static Profile> {
        match self {
            Engagement::Core => Some(&rates::CORE_PROFILE),
            Engagement::Active => Some(&rates::ACTIVE_PROFILE),
            Engagement::None | Engagement::Occasional => None,
        }
    }
}

/// Round donation amounts in yuan, with relative weights, smallest first.
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

pub(crate) fn write(
    ctx: &Context,
    p: &Person,
    engagement: Engagement,
    rng: &mut impl Rng,
    lines: &mut Lines,
) {
    let under_sixty = p.birth > ctx.as_of.add_years(-60);
    if let Some(profile) = engagement.profile() {
        engaged(ctx, p, profile, rng, lines);
        if under_sixty && rng.gen_bool(profile.blood) {
            blood(ctx, p, rng, lines);
        }
        return;
    }
    if engagement == Engagement::Occasional {
        let honour = rng.gen_bool(rates::CIVIC_HONOUR);
        let donation = rng.gen_bool(rates::CIVIC_DONATION);
        let volunteer = rng.gen_bool(rates::CIVIC_VOLUNTEER) || !(honour || donation);
        if let Some(window) = ctx.last_years(6).not_before(p.adult_since) {
            if honour {
                honours(p, rng, lines, window, &HONOUR_WEIGHTS);
            }
        }
        if let Some(window) = ctx.last_years(4).not_before(p.adult_since) {
            if donation {
                donations(p, rng, lines, window, AMOUNTS);
            }
            if volunteer {
                volunteering(p, rng, lines, window);
            }
        }
    }
    if under_sixty && rng.gen_bool(rates::BLOOD) {
        blood(ctx, p, rng, lines);
    }
}

/// A core or active participant: honours in five years, donations in four,
/// and volunteering hours that all fall in the model's three-year window.
fn engaged(ctx: &Context, p: &Person, profile: &Profile, rng: &mut impl Rng, lines: &mut Lines) {
    let honour = rng.gen_bool(profile.honour);
    let donation = rng.gen_bool(profile.donation);
    if let Some(window) = ctx.last_years(5).not_before(p.adult_since) {
        if honour {
            honours(p, rng, lines, window, &profile.honour_weights);
        }
    }
    if let Some(window) = ctx.last_years(4).not_before(p.adult_since) {
        if donation {
            let amounts = &AMOUNTS[AMOUNTS.partition_point(|a| a.0 < profile.min_gift)..];
            donations(p, rng, lines, window, amounts);
        }
    }
    if let Some(window) = ctx.last_years(3).not_before(p.adult_since) {
        let (low, high) = profile.tenths;
        let total = rng.gen_range(low..=high);
        service(p, rng, lines, window, total);
    }
}

/// O01: one honour, sometimes two, of levels drawn with `weights`.
fn honours(p: &Person, rng: &mut impl Rng, lines: &mut Lines, window: Span, weights: &[u32; 4]) {
    for n in 1..=rates::count(rng, &[85, 15]) {
        let level = rates::index(rng, weights);
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

/// O02: 1–3 donations, mostly round sums drawn from `amounts`, amounts with two decimals.
fn donations(
    p: &Person,
    rng: &mut impl Rng,
    lines: &mut Lines,
    window: Span,
    amounts: &[(u64, u32)],
) {
    for n in 1..=rates::count(rng, &[60, 30, 10]) {
        let cents = if rng.gen_bool(0.8) {
            weighted(rng, amounts, |a| a.1).0 * 100
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

/// O03: `total` tenths of an hour split over 3–8 records in `window`.
fn service(p: &Person, rng: &mut impl Rng, lines: &mut Lines, window: Span, total: u32) {
    let count = rng.gen_range(3..=8u32).min(total);
    let mut left = total;
    for n in 1..=count {
        // An even share, give or take half, leaving at least a tenth for each record to come.
        let tenths = if n == count {
            left
        } else {
            let share = left / (count - n + 1);
            rng.gen_range(share / 2..=share + share / 2)
                .clamp(1, left - (count - n))
        };
        left -= tenths;
        lines.begin(p, "SX-VOL", "O03", n);
        lines.decimal("hours", u64::from(tenths), 1);
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
