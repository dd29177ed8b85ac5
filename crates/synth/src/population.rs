//! The generation loop: one person at a time, each drawn from its own random
//! stream, so the output is the same whatever came before and memory stays flat.

use std::io::{self, BufWriter, Write};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::calendar::{Day, Span};
use crate::identity::Births;
use crate::json::Lines;
use crate::person::Person;
use crate::{basic, civic, conduct, GenerateOptions, GenerateStats};

/// Everything fixed for a run: derived from the seed and the as-of date only.
pub(crate) struct Context {
    pub(crate) as_of: Day,
    pub(crate) births: Births,
    /// `recent[n]` is "(as_of − n years, as_of]".
    recent: [Span; 7],
    key: [u8; 32],
    tag: [u8; 8],
}

impl Context {
    pub(crate) fn new(opts: &GenerateOptions) -> Context {
        let as_of = Day::from_date(opts.as_of);
        let mut key = [0u8; 32];
        for (i, chunk) in key.chunks_exact_mut(8).enumerate() {
            chunk.copy_from_slice(&mix(opts.seed ^ mix(i as u64 + 1)).to_le_bytes());
        }
        // The tag keeps runs with another seed or date from reusing (and so
        // overwriting, on import) this run's source ids.
        let tag = mix(opts.seed ^ mix(as_of.0 as u64 ^ 0x0074_6167));
        let mut tag_hex = [0u8; 8];
        for (i, b) in tag_hex.iter_mut().enumerate() {
            *b = b"0123456789abcdef"[(tag >> (28 - 4 * i)) as usize & 0xf];
        }
        Context {
            as_of,
            births: Births::new(as_of, opts.seed),
            recent: std::array::from_fn(|n| Span::last_years(as_of, n as i32)),
            key,
            tag: tag_hex,
        }
    }

    /// "(as_of − years, as_of]" for 1 ≤ years ≤ 6.
    pub(crate) fn last_years(&self, years: usize) -> Span {
        self.recent[years]
    }

    /// The random stream of person `index`: the run's key, stream number `index`.
    fn rng(&self, index: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(self.key);
        rng.set_stream(index);
        rng
    }
}

/// SplitMix64's finaliser: a cheap, well-spread hash of a `u64`.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Writes every resident's rows, person by person.
pub(crate) fn run<W: Write>(opts: &GenerateOptions, out: W) -> io::Result<GenerateStats> {
    let ctx = Context::new(opts);
    let mut out = BufWriter::with_capacity(1 << 18, out);
    let mut lines = Lines::new(ctx.tag);
    let mut person = Person::new();
    for index in 0..opts.residents {
        let mut rng = ctx.rng(index);
        person.draw(&ctx, index, &mut rng);
        lines.clear();
        write_records(&ctx, &person, &mut rng, &mut lines);
        out.write_all(lines.bytes())?;
    }
    out.flush()?;
    Ok(GenerateStats {
        residents: opts.residents,
        records: lines.records(),
    })
}

fn write_records(ctx: &Context, person: &Person, rng: &mut ChaCha8Rng, lines: &mut Lines) {
    basic::residence(ctx, person, rng, lines);
    if person.minor {
        return;
    }
    basic::capacity(ctx, person, rng, lines);
    let engagement = civic::Engagement::draw(rng);
    basic::evaluation(ctx, person, engagement, rng, lines);
    conduct::write(ctx, person, engagement, rng, lines);
    civic::write(ctx, person, engagement, rng, lines);
}
