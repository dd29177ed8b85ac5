//! Deterministic synthetic population generator: residents and their records
//! in the import format (JSON Lines), for demos, tests and benchmarks.
//!
//! Names and numbers are synthetic combinations, never real persons' data.
//! The only I/O is the writer it is handed. Output depends only on
//! (`residents`, `seed`, `as_of`), and a run with fewer residents is a prefix
//! of one with more. Each person's rows are written together, one person at a
//! time, so memory use does not grow with the population.

mod basic;
mod calendar;
mod civic;
mod conduct;
mod identity;
mod json;
mod names;
mod person;
mod places;
mod population;
mod rates;

use std::io;

use jiff::civil::Date;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    /// How many residents (each with zero or more rows).
    pub residents: u64,
    /// The same seed gives the same bytes.
    pub seed: u64,
    /// Every record is dated on or before this day; ages are counted on it.
    pub as_of: Date,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GenerateStats {
    pub residents: u64,
    /// Rows (lines) written.
    pub records: u64,
}

/// Why options cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("at most {max} residents can be generated as of {as_of} with unique ID numbers, not {residents}")]
    TooManyResidents {
        residents: u64,
        max: u64,
        as_of: Date,
    },
    #[error("the as-of date {0} must be between {FIRST_AS_OF} and {LAST_AS_OF} so that birth dates fit ID numbers")]
    AsOfOutOfRange(Date),
}

/// ID numbers hold birth years 1900–2100 and the oldest resident is 85.
const FIRST_AS_OF: Date = jiff::civil::date(1987, 1, 1);
const LAST_AS_OF: Date = jiff::civil::date(2099, 12, 31);

impl GenerateOptions {
    /// The most residents that can get distinct ID numbers as of `as_of`
    /// (about 6.5 million: 1000 sequence numbers per birth date of a minor).
    pub fn max_residents(as_of: Date) -> u64 {
        identity::Births::new(calendar::Day::from_date(as_of), 0).capacity()
    }

    /// Checks the options before anything is written.
    pub fn check(&self) -> Result<(), OptionsError> {
        if !(FIRST_AS_OF..=LAST_AS_OF).contains(&self.as_of) {
            return Err(OptionsError::AsOfOutOfRange(self.as_of));
        }
        let max = Self::max_residents(self.as_of);
        if self.residents > max {
            return Err(OptionsError::TooManyResidents {
                residents: self.residents,
                max,
                as_of: self.as_of,
            });
        }
        Ok(())
    }
}

/// Writes `opts.residents` synthetic residents' records to `out` as JSON
/// Lines, person by person; `out` is buffered here. Invalid options are an
/// [`io::ErrorKind::InvalidInput`] error wrapping an [`OptionsError`], raised
/// before anything is written.
///
/// ```
/// use chengxin_synth::{generate, GenerateOptions};
///
/// let opts = GenerateOptions { residents: 10, seed: 1, as_of: jiff::civil::date(2026, 6, 1) };
/// let mut out = Vec::new();
/// let stats = generate(&opts, &mut out)?;
/// assert_eq!(stats.records as usize, out.iter().filter(|&&b| b == b'\n').count());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn generate<W: io::Write>(opts: &GenerateOptions, out: W) -> io::Result<GenerateStats> {
    opts.check()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    population::run(opts, out)
}
