//! One synthetic resident: who they are before any record is written.

use rand::Rng;

use crate::calendar::Day;
use crate::identity::id_number;
use crate::names::write_name;
use crate::places::{District, DISTRICTS, ELSEWHERE};
use crate::population::Context;
use crate::rates::{self, weighted};

/// Where a person's ID number was issued.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Home {
    /// Born and registered in a Shaoxing district.
    Local(&'static District),
    /// From elsewhere; the address code of that place.
    Outsider(&'static str),
}

/// A resident; reused from one index to the next to avoid allocating.
#[derive(Debug)]
pub(crate) struct Person {
    pub(crate) index: u64,
    pub(crate) id: [u8; 18],
    pub(crate) name: String,
    pub(crate) birth: Day,
    /// The 18th birthday.
    pub(crate) adult_since: Day,
    pub(crate) minor: bool,
    pub(crate) home: Home,
}

impl Person {
    pub(crate) fn new() -> Person {
        Person {
            index: 0,
            id: [b'0'; 18],
            name: String::with_capacity(16),
            birth: Day(0),
            adult_since: Day(0),
            minor: false,
            home: Home::Local(&DISTRICTS[0]),
        }
    }

    /// Draws person `index` afresh.
    pub(crate) fn draw(&mut self, ctx: &Context, index: u64, rng: &mut impl Rng) {
        self.index = index;
        self.minor = rng.gen_bool(rates::MINOR);
        self.home = if rng.gen_bool(rates::OUTSIDER) {
            Home::Outsider(weighted(rng, ELSEWHERE, |e| e.1).0)
        } else {
            Home::Local(weighted(rng, DISTRICTS, |d| d.weight))
        };
        let (birth, seq) = ctx.births.assign(index, self.minor);
        self.birth = birth;
        self.adult_since = birth.add_years(18);
        self.id = id_number(self.region_code(), birth, seq);
        // The second-to-last digit is odd for men, as on real numbers.
        write_name(rng, seq % 2 == 1, &mut self.name);
    }

    /// The address code of the ID number.
    pub(crate) fn region_code(&self) -> &'static str {
        match self.home {
            Home::Local(d) => d.code,
            Home::Outsider(code) => code,
        }
    }

    /// The person's Shaoxing district, or a drawn one for outsiders.
    pub(crate) fn district(&self, rng: &mut impl Rng) -> &'static District {
        match self.home {
            Home::Local(d) => d,
            Home::Outsider(_) => weighted(rng, DISTRICTS, |d| d.weight),
        }
    }
}
