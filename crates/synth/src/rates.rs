//! How common each kind of person and record is, in one place so that the
//! tests and the figures quoted in the docs can be checked against it.

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
/// Share of evaluation scores in 800–849.
pub(crate) const TYPICAL_SCORE: f64 = 0.98;
/// Share of adults with at least one administrative penalty.
pub(crate) const PENALISED: f64 = 0.04;
/// Share of adults who signed commitments, without and with a penalty
/// (credit repair requires a commitment, so the penalised sign more).
pub(crate) const COMMITTED: f64 = 0.3;
pub(crate) const COMMITTED_AFTER_PENALTY: f64 = 0.6;
/// Chance that a penalised signer's first penalty falls inside a commitment's term.
pub(crate) const BREACH: f64 = 0.5;
/// Share of adults put on a serious dishonesty list.
pub(crate) const LISTED: f64 = 0.006;
/// Of list entries: removed by the as-of date.
pub(crate) const LIST_REMOVED: f64 = 0.5;
/// Share of adults with at least one honour, donation or volunteering record.
pub(crate) const CIVIC: f64 = 0.2;
/// Of those: chance of each kind (volunteering is the fallback).
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
