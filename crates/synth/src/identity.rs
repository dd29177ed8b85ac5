//! Birth dates and ID numbers that are valid and unique by construction,
//! without remembering the numbers already handed out.
//!
//! Person `index` is split into a round `index / 1000` and a slot
//! `index % 1000`. The slot picks the 3-digit sequence number (a bijection),
//! so two persons in one round never share it. Within an age band, the birth
//! date is `(mul · round + offset(slot)) mod band length` with `mul` coprime
//! to the length, so two persons with the same slot and the same band never
//! share a birth date while the round is below the band length. The bands
//! (under 18, 18–85) do not overlap, so no two persons share birth date and
//! sequence number, whatever their address codes.

use chengxin_domain::id::check_character;

use crate::calendar::{Day, Span};
use crate::population::mix;

/// Sequence numbers per birth date (3 digits).
const SLOTS: u64 = 1000;
/// Multiplier making the slot → sequence number map a bijection of 0..1000.
const SEQ_STRIDE: u64 = 389;

/// The birth dates of one age band, handed out round by round.
#[derive(Debug)]
struct Band {
    span: Span,
    len: u64,
    mul: u64,
    salt: u64,
}

impl Band {
    fn new(span: Span, salt: u64) -> Band {
        let len = span.last.since(span.first) as u64 + 1;
        // Near the golden ratio of the length, so consecutive rounds spread out.
        let mut mul = (len * 618 / 1000 + salt % (len / 16 + 1)).max(1);
        while gcd(mul, len) != 1 {
            mul += 1;
        }
        Band {
            span,
            len,
            mul,
            salt,
        }
    }

    fn birth(&self, round: u64, slot: u64) -> Day {
        let offset = (self.mul * (round % self.len) + mix(self.salt ^ slot) % self.len) % self.len;
        self.span.first.plus(offset as i32)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The last birth date of someone aged at least `years` on `as_of` (a
/// 29 February birthday counts from 28 February, as the domain counts it).
pub(crate) fn last_birth_aged(as_of: Day, years: i32) -> Day {
    let mut day = as_of.add_years(-years);
    while day.plus(1).add_years(years) <= as_of {
        day = day.plus(1);
    }
    day
}

/// Hands out birth dates and sequence numbers.
#[derive(Debug)]
pub(crate) struct Births {
    minors: Band,
    adults: Band,
    seq_salt: u64,
}

impl Births {
    /// Adults are 18–85 on `as_of`, minors 0–17.
    pub(crate) fn new(as_of: Day, seed: u64) -> Births {
        let adult_last = last_birth_aged(as_of, 18);
        let adult_first = last_birth_aged(as_of, 86).plus(1);
        Births {
            minors: Band::new(
                Span {
                    first: adult_last.plus(1),
                    last: as_of,
                },
                mix(seed ^ 0x6d69_6e6f_7273),
            ),
            adults: Band::new(
                Span {
                    first: adult_first,
                    last: adult_last,
                },
                mix(seed ^ 0x6164_756c_7473),
            ),
            seq_salt: mix(seed ^ 0x7365_7175_656e) % SLOTS,
        }
    }

    /// How many persons can be given distinct numbers.
    pub(crate) fn capacity(&self) -> u64 {
        SLOTS * self.minors.len.min(self.adults.len)
    }

    /// Birth date and 3-digit sequence number of person `index`.
    pub(crate) fn assign(&self, index: u64, minor: bool) -> (Day, u32) {
        let (round, slot) = (index / SLOTS, index % SLOTS);
        let band = if minor { &self.minors } else { &self.adults };
        let seq = (slot * SEQ_STRIDE + self.seq_salt) % SLOTS;
        (band.birth(round, slot), seq as u32)
    }
}

/// The 18-character number for an address code, birth date and sequence number.
pub(crate) fn id_number(region: &str, birth: Day, seq: u32) -> [u8; 18] {
    let mut id = [0u8; 18];
    id[..6].copy_from_slice(&region.as_bytes()[..6]);
    let (y, m, d) = birth.ymd();
    let digits = [
        y as u32 / 1000,
        y as u32 / 100 % 10,
        y as u32 / 10 % 10,
        y as u32 % 10,
        m / 10,
        m % 10,
        d / 10,
        d % 10,
        seq / 100,
        seq / 10 % 10,
        seq % 10,
    ];
    for (slot, digit) in id[6..17].iter_mut().zip(digits) {
        *slot = b'0' + digit as u8;
    }
    id[17] = check_character(&id[..17]);
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use chengxin_domain::dates::age_on;
    use chengxin_domain::IdNumber;
    use jiff::civil::date;
    use std::collections::HashSet;

    #[test]
    fn bands_match_the_domain_age_rule() {
        for as_of in [date(2026, 6, 1), date(2026, 2, 28), date(2028, 2, 29)] {
            let births = Births::new(Day::from_date(as_of), 1);
            let d = |day: Day| age_on(day.to_date(), as_of);
            assert_eq!(d(births.adults.span.first), 85);
            assert_eq!(d(births.adults.span.first.plus(-1)), 86);
            assert_eq!(d(births.adults.span.last), 18);
            assert_eq!(d(births.minors.span.first), 17);
            assert_eq!(births.minors.span.last.to_date(), as_of);
        }
    }

    #[test]
    fn every_round_of_a_slot_gets_its_own_birth_date() {
        // The whole capacity of one slot in the smaller band: no repeats.
        let births = Births::new(Day::from_date(date(2026, 6, 1)), 42);
        for band in [&births.minors, &births.adults] {
            for slot in [0, 1, 999] {
                let days: HashSet<Day> = (0..band.len).map(|r| band.birth(r, slot)).collect();
                assert_eq!(days.len() as u64, band.len);
            }
        }
        let seqs: HashSet<u32> = (0..SLOTS).map(|i| births.assign(i, false).1).collect();
        assert_eq!(seqs.len() as u64, SLOTS);
        assert!(births.capacity() > 6_000_000, "{}", births.capacity());
    }

    #[test]
    fn numbers_parse() {
        let births = Births::new(Day::from_date(date(2026, 6, 1)), 3);
        for index in (0..50_000).step_by(7) {
            let (birth, seq) = births.assign(index, index % 3 == 0);
            let id = id_number("330602", birth, seq);
            let parsed = IdNumber::parse(std::str::from_utf8(&id).unwrap()).unwrap();
            assert_eq!(parsed.birth_date(), birth.to_date());
        }
    }
}
