//! How common each kind of person and record is, in one place so that the
//! tests and the figures quoted in the docs can be checked against it.
//!
//! # Why these rates: the grade distribution
//!
//! Nobody is given a grade here. Residents get records, and the real engine
//! turns records into scores and grades; the rates below are chosen so that
//! the default model's grades (AAA ≥ 750, AA 700–749, A 600–699, B 550–599,
//! C < 550) all occur, in the proportions a city would plausibly see. The
//! model's neutral base is 600 (an 800–849 provincial evaluation, or none),
//! so a resident with nothing on record is an A: most residents are.
//!
//! Measured with `cargo run -p chengxin-synth --example grades -- 200000`
//! (seed 1, as of 2026-11-01), share of the 184,463 graded (eligible)
//! residents: AAA 0.79 %, AA 2.76 %, A 90.76 %, B 4.54 %, C 1.16 %. The
//! grade test (`tests/grades.rs`) holds every grade to a band around these.
//!
//! The bottom (C, below 550) comes from three sources in roughly equal parts:
//! - **Serious dishonesty lists** ([`LISTED`]): the Supreme People's Court's
//!   list of dishonest judgment debtors had published more than 12 million
//!   entries (person-times, company representatives included) by September
//!   2018, five years after it opened: of the order of 1 % of China's adults
//!   over five years, many since removed after paying. We list 0.8 % of
//!   adults over five years, half of them removed by the as-of date; an
//!   active listing caps the score at 549.
//! - **A weak provincial evaluation** ([`EVALUATION_BANDS`]): below 750 the
//!   evaluation alone gives 530 or less; 0.5 % of evaluations are there.
//! - **Penalties and breaches together**: a serious penalty in publicity
//!   (−50) with a breached commitment (−30), or several penalties.
//!
//! The B grade (550–599) comes from a general penalty still in publicity, a
//! breached commitment, or an evaluation of 750–799 (4 % of evaluations).
//! No distribution of the provincial evaluation is published; its bands are
//! assumptions.
//!
//! The top (AA and AAA) needs records that add points: honours, donations,
//! volunteering, blood donation, fulfilled commitments and a provincial
//! evaluation of 850 or more. Such records cluster in the same people, so
//! each adult has one civic engagement level that sets how likely each kind
//! is (`civic::Engagement`):
//! - **Core** ([`CORE`], 2.5 % of adults; [`CORE_PROFILE`]): 300–800
//!   volunteering hours in three years, mostly honoured, donors of 1000 yuan
//!   or more, often blood donors, signing commitments every year.
//! - **Active** ([`ACTIVE`], 8 %; [`ACTIVE_PROFILE`]): 150–350 hours, often
//!   a (mostly county or city) honour, some donations and commitments.
//! - **Occasional** ([`CIVIC`], 20 % of the rest): a record or two.
//!
//! Why so many hours, and how that compares with the figures: China had 217
//! million registered volunteers in 2021 (15.4 % of the population) but only
//! 7.44 recorded hours per registered volunteer, so recorded hours sit with
//! a small minority; the registration scheme's first star is 100 hours, the
//! second 300. On national averages alone, 100+ recorded hours would be
//! about one adult in a hundred; the core and active levels together are ten.
//! That is deliberate: under the default model a resident needs 150 points
//! above the neutral 600 for AAA, which only sustained volunteering
//! (at most +60) together with honours, gifts and kept commitments reaches,
//! and with national-average engagement the AAA and AA bars would be a
//! fraction of a per cent, invisible on a dashboard. Lower [`CORE`] and
//! [`ACTIVE`] to model a quieter city; the grade test then says by how much
//! the top shrinks.
//!
//! Blood donation ([`BLOOD`]): China's rate was 11.1 donations per thousand
//! people in 2020, most donors giving once; 5 % of adults under 60 with one
//! to three donations in four years matches that order (the core and active
//! give more often).
//!
//! Sources: Supreme People's Court report to the NPC Standing Committee,
//! October 2018 (China Daily/ecns.cn, 2018-10-25); CASS *China Volunteer
//! Service Development Report (2021–2022)*; National Health Commission,
//! June 2021 (People's Daily Online, 2021-06-16).

use rand::Rng;

/// Share of residents under 18 on the as-of date.
pub(crate) const MINOR: f64 = 0.04;
/// Share of residents whose ID number was issued outside Shaoxing.
pub(crate) const OUTSIDER: f64 = 0.08;
/// Share of adult locals whose household registration is no longer active.
pub(crate) const MOVED_AWAY: f64 = 0.015;
/// Share of locals registered later in life (moved within the city) rather than at birth.
pub(crate) const REGISTERED_LATER: f64 = 0.15;
/// Share of outsiders with a (non-Shaoxing) household registration record.
pub(crate) const OUTSIDER_REGISTERED: f64 = 0.5;
/// Share of outsiders with a residence permit record.
pub(crate) const PERMIT: f64 = 0.88;
/// Of permit holders: the only permit lapsed before the as-of date.
pub(crate) const PERMIT_LAPSED: f64 = 0.15;
/// Of current permit holders: an earlier, expired permit is on record too.
pub(crate) const PERMIT_RENEWED: f64 = 0.3;
/// Share of adults declared of limited or no civil capacity.
pub(crate) const INCAPACITY: f64 = 0.005;
/// Share of adults with a B02 record saying `full` (some after a restoration).
pub(crate) const CAPACITY_FULL: f64 = 0.002;
/// Share of adults with a provincial evaluation in the last two years.
pub(crate) const EVALUATED: f64 = 0.97;
/// Of those: the previous year's evaluation is on record too.
pub(crate) const EVALUATED_BEFORE: f64 = 0.5;
/// Provincial evaluation scores: (lowest, highest, weight per 1000). Most
/// are 800–849, the band the model scores as the neutral 600; no published
/// distribution exists, so the tails are assumptions sized for the grades
/// above.
pub(crate) const EVALUATION_BANDS: [(u64, u64, u32); 5] = [
    (850, 920, 30),
    (800, 849, 925),
    (750, 799, 40),
    (700, 749, 3),
    (480, 699, 2),
];
/// Share of adults with at least one administrative penalty.
pub(crate) const PENALISED: f64 = 0.04;
/// Share of adults who signed commitments, without and with a penalty
/// (credit repair requires a commitment, so the penalised sign more).
pub(crate) const COMMITTED: f64 = 0.3;
pub(crate) const COMMITTED_AFTER_PENALTY: f64 = 0.6;
/// Chance that a penalised signer's first penalty falls inside a commitment's term.
pub(crate) const BREACH: f64 = 0.5;
/// Share of adults put on a serious dishonesty list in the last five years.
pub(crate) const LISTED: f64 = 0.008;
/// Of list entries: removed by the as-of date.
pub(crate) const LIST_REMOVED: f64 = 0.5;
/// Share of adults in the civic core (see the module docs).
pub(crate) const CORE: f64 = 0.025;
/// Share of adults who take part regularly.
pub(crate) const ACTIVE: f64 = 0.08;
/// Share of the other adults with at least one honour, donation or
/// volunteering record: occasional participants.
pub(crate) const CIVIC: f64 = 0.2;
/// Of occasional participants: chance of each kind (volunteering is the fallback).
pub(crate) const CIVIC_HONOUR: f64 = 0.15;
pub(crate) const CIVIC_DONATION: f64 = 0.45;
pub(crate) const CIVIC_VOLUNTEER: f64 = 0.65;
/// Share of adults under 60 who give blood.
pub(crate) const BLOOD: f64 = 0.05;

/// One of `items`, all equally likely. Draws a `u32`, not a `usize`, so the
/// stream is the same on every platform.
pub(crate) fn one_of<T: Copy>(rng: &mut impl Rng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len() as u32) as usize]
}

/// One of `items`, drawn with the given relative weights.
pub(crate) fn weighted<'a, T>(
    rng: &mut impl Rng,
    items: &'a [T],
    weight: impl Fn(&T) -> u32,
) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut r = rng.gen_range(0..total);
    for item in items {
        let w = weight(item);
        if r < w {
            return item;
        }
        r -= w;
    }
    &items[items.len() - 1]
}

/// An index into `weights`, drawn with those relative weights.
pub(crate) fn index(rng: &mut impl Rng, weights: &[u32]) -> usize {
    let mut r = rng.gen_range(0..weights.iter().sum::<u32>());
    for (i, &w) in weights.iter().enumerate() {
        if r < w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}

/// A count from 1 to `weights.len()`, drawn with the given relative weights.
pub(crate) fn count(rng: &mut impl Rng, weights: &[u32]) -> u32 {
    index(rng, weights) as u32 + 1
}

/// What a civic engagement level makes likely, for the core and active levels.
pub(crate) struct Profile {
    /// Chance of one or two honours in five years, and their levels' weights
    /// (national, provincial, city, county).
    pub(crate) honour: f64,
    pub(crate) honour_weights: [u32; 4],
    /// Chance of one to three donations in four years, and the smallest
    /// round sum given (yuan).
    pub(crate) donation: f64,
    pub(crate) min_gift: u64,
    /// Volunteering in the last three years: total tenths of an hour, drawn
    /// uniformly from this range and split over three to eight records.
    pub(crate) tenths: (u32, u32),
    /// Chance of giving blood, for adults under 60.
    pub(crate) blood: f64,
    /// Chance that the latest provincial evaluation is in the top band (850+)
    /// rather than drawn from [`EVALUATION_BANDS`].
    pub(crate) top_evaluation: f64,
    /// Chance of signing commitments, and weights of signing one, two or three.
    pub(crate) committed: f64,
    pub(crate) commitments: [u32; 3],
}

/// The civic core: 300–800 hours, mostly honoured, donors, committed.
pub(crate) const CORE_PROFILE: Profile = Profile {
    honour: 0.85,
    honour_weights: [10, 40, 40, 10],
    donation: 0.8,
    min_gift: 1_000,
    tenths: (3_000, 8_000),
    blood: 0.4,
    top_evaluation: 0.7,
    committed: 0.9,
    commitments: [0, 30, 70],
};

/// Regular participants: 150–350 hours, often a county or city honour.
pub(crate) const ACTIVE_PROFILE: Profile = Profile {
    honour: 0.4,
    honour_weights: [2, 10, 38, 50],
    donation: 0.5,
    min_gift: 0,
    tenths: (1_500, 3_500),
    blood: 0.15,
    top_evaluation: 0.25,
    committed: 0.7,
    commitments: [30, 40, 30],
};
