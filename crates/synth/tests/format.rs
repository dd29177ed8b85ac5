//! The output is valid import data: every row passes the catalogue, ID
//! numbers parse and are unique, source ids are unique per unit, and the same
//! options always give the same bytes.

mod common;

use std::collections::HashSet;
use std::io::ErrorKind;

use chengxin_domain::{Catalogue, IdNumber};
use chengxin_synth::{generate, GenerateOptions, OptionsError};
use common::{as_of, people, rows, run, validate};
use jiff::civil::date;

/// Which units push which items.
fn unit_may_push(item: &str, unit: &str) -> bool {
    let units: &[&str] = match item {
        "B01" => &["ZJ-CREDIT"],
        "B02" => &["SX-COURT"],
        "B03" | "B04" => &["SX-PSB"],
        "C01" => &["SX-DRC"],
        "P01" => &["SX-TAX", "SX-TRAFFIC", "SX-AMR", "SX-ENV"],
        "S01" => &["SX-COURT", "SX-TAX", "SX-AMR"],
        "O01" => &["SX-CIV"],
        "O02" => &["SX-CHARITY"],
        "O03" => &["SX-VOL"],
        "O04" => &["SX-BLOOD"],
        _ => &[],
    };
    units.contains(&unit)
}

#[test]
fn every_row_passes_the_catalogue() {
    let as_of = as_of();
    let (bytes, stats) = run(5_000, 11, as_of);
    let rows = rows(&bytes);
    assert_eq!(stats.records, rows.len() as u64);
    assert_eq!(stats.residents, 5_000);
    let catalogue = Catalogue::builtin();
    let errors: Vec<String> = rows
        .iter()
        .filter_map(|r| validate(&catalogue, r).err())
        .collect();
    assert!(
        errors.is_empty(),
        "{} invalid rows, e.g. {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );

    for person in people(&rows) {
        let id = IdNumber::parse(&person[0].id_number).expect("ID parses");
        let birth = id.birth_date();
        for row in person {
            assert!(
                unit_may_push(&row.item, &row.unit),
                "{} from {}",
                row.item,
                row.unit
            );
            assert_eq!(row.name, person[0].name, "one name per person");
            assert!(row.record_date() <= as_of, "{row:?}");
            assert!(row.record_date() >= birth, "{row:?} before birth {birth}");
            if let Some(removed) = row.date("removed_on") {
                assert!(row.record_date() < removed && removed <= as_of, "{row:?}");
            }
            if let Some(until) = row.date("valid_until") {
                assert!(row.record_date() < until, "{row:?}");
            }
        }
    }
}

#[test]
fn same_options_same_bytes_and_every_option_matters() {
    let (a, _) = run(2_000, 7, as_of());
    let (b, _) = run(2_000, 7, as_of());
    assert!(a == b, "same seed, different output");
    let (other_seed, _) = run(2_000, 8, as_of());
    assert!(a != other_seed);
    let (other_day, _) = run(2_000, 7, date(2026, 6, 2));
    assert!(a != other_day);
}

#[test]
fn fewer_residents_give_a_prefix() {
    let (small, s) = run(700, 3, as_of());
    let (large, l) = run(1_500, 3, as_of());
    assert!(large.starts_with(&small));
    assert!(l.records > s.records);
}

#[test]
fn ids_and_source_ids_are_unique_across_200k_residents() {
    let residents = 200_000;
    let (bytes, stats) = run(residents, 2026, as_of());
    let text = std::str::from_utf8(&bytes).unwrap();
    let mut ids = HashSet::new();
    let mut sources = HashSet::new();
    let mut last = "";
    let mut lines = 0u64;
    for line in text.lines() {
        lines += 1;
        let id = between(line, "\"id_number\":\"", "\"");
        if id != last {
            // A repeat means two persons share a number or one person's rows are split.
            assert!(ids.insert(id), "ID {id} repeated");
            assert!(IdNumber::parse(id).is_ok(), "{id}");
            last = id;
        }
        let unit = between(line, "{\"unit\":\"", "\"");
        let source = between(line, "\"source_id\":\"", "\"");
        assert!(
            sources.insert((unit, source)),
            "({unit}, {source}) repeated"
        );
    }
    assert_eq!(lines, stats.records);
    // Only a few outsider children have no record at all.
    assert!(
        ids.len() as f64 > 0.99 * residents as f64,
        "{} persons",
        ids.len()
    );
}

fn between<'a>(line: &'a str, start: &str, end: &str) -> &'a str {
    let from = line.find(start).expect("key present") + start.len();
    let len = line[from..].find(end).expect("closing quote");
    &line[from..from + len]
}

#[test]
fn impossible_options_are_refused_before_writing() {
    let as_of = as_of();
    let max = GenerateOptions::max_residents(as_of);
    assert!(max > 6_000_000, "{max}");
    let mut out = Vec::new();
    let too_many = GenerateOptions {
        residents: max + 1,
        seed: 1,
        as_of,
    };
    let err = generate(&too_many, &mut out).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(matches!(
        too_many.check(),
        Err(OptionsError::TooManyResidents { .. })
    ));
    assert!(err.to_string().contains("at most"), "{err}");
    assert!(out.is_empty());

    let too_early = GenerateOptions {
        residents: 1,
        seed: 1,
        as_of: date(1950, 1, 1),
    };
    assert_eq!(
        too_early.check(),
        Err(OptionsError::AsOfOutOfRange(date(1950, 1, 1)))
    );
    assert_eq!(
        generate(&too_early, &mut out).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(out.is_empty());
}

#[test]
fn nothing_asked_nothing_written() {
    let (bytes, stats) = run(0, 1, as_of());
    assert!(bytes.is_empty());
    assert_eq!((stats.residents, stats.records), (0, 0));
}
