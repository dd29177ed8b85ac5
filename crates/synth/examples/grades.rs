//! Scores a synthetic population with the real engine and the built-in model
//! and prints how many residents fall in each grade:
//! `cargo run -p chengxin-synth --example grades -- RESIDENTS [SEED] [YYYY-MM-DD]`
//! (defaults 20000, 1, 2026-11-01). The numbers in the README's table come
//! from this.

#[path = "../tests/common/score.rs"]
mod score;

use chengxin_synth::{generate, GenerateOptions};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| {
        args.get(i)
            .map_or(default, |a| a.parse().expect("a whole number"))
    };
    let as_of = args.get(2).map_or(jiff::civil::date(2026, 11, 1), |a| {
        a.parse().expect("a date YYYY-MM-DD")
    });
    let opts = GenerateOptions {
        residents: number(0, 20_000),
        seed: number(1, 1),
        as_of,
    };
    let mut out = Vec::new();
    let stats = generate(&opts, &mut out)?;
    println!(
        "{} residents, {} records, seed {}, as of {as_of}",
        stats.residents, stats.records, opts.seed
    );
    print!("{}", score::grades(&out, as_of).table());
    Ok(())
}
