//! Helpers shared by the integration tests: generate into memory, read the
//! rows back, and judge them with the domain's own catalogue and rules.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use chengxin_domain::catalogue::Raw;
use chengxin_domain::commitment::{outcome, CommitmentOutcome, Template};
use chengxin_domain::dates::{age_on, parse_date};
use chengxin_domain::{Catalogue, IdNumber};
use chengxin_synth::{generate, GenerateOptions, GenerateStats};
use jiff::civil::{date, Date};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The as-of date most tests use.
pub fn as_of() -> Date {
    date(2026, 6, 1)
}

/// The output of one run and its stats.
pub fn run(residents: u64, seed: u64, as_of: Date) -> (Vec<u8>, GenerateStats) {
    let mut out = Vec::new();
    let opts = GenerateOptions {
        residents,
        seed,
        as_of,
    };
    let stats = generate(&opts, &mut out).expect("generation succeeds");
    (out, stats)
}

/// One import row, exactly the keys of the import format.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub unit: String,
    pub source_id: String,
    pub item: String,
    pub id_number: String,
    pub name: String,
    pub fields: Map<String, Value>,
}

impl Row {
    pub fn text(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    pub fn date(&self, key: &str) -> Option<Date> {
        self.text(key).and_then(parse_date)
    }

    /// The record's date: its item's first date field.
    pub fn record_date(&self) -> Date {
        let key = match self.item.as_str() {
            "B01" => "evaluated_on",
            "B02" | "P01" => "decided_on",
            "B03" => "registered_on",
            "B04" => "valid_from",
            "C01" => "signed_on",
            "S01" => "listed_on",
            "O01" => "awarded_on",
            "O02" | "O04" => "donated_on",
            "O03" => "served_on",
            other => panic!("unknown item {other}"),
        };
        self.date(key).expect("record date")
    }
}

/// Every line parsed as a row; panics on a malformed line.
pub fn rows(bytes: &[u8]) -> Vec<Row> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    assert!(text.is_empty() || text.ends_with('\n'));
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}: {l}", i + 1))
        })
        .collect()
}

/// Rows grouped by person, relying on each person's rows being consecutive.
pub fn people(rows: &[Row]) -> Vec<&[Row]> {
    rows.chunk_by(|a, b| a.id_number == b.id_number).collect()
}

/// Validates a row against the built-in catalogue.
pub fn validate(catalogue: &Catalogue, row: &Row) -> Result<(), String> {
    let item = catalogue
        .item(&row.item)
        .ok_or_else(|| format!("unknown item {}", row.item))?;
    catalogue
        .validate(
            item,
            row.fields.iter().map(|(k, v)| (k.as_str(), Raw::Json(v))),
        )
        .map(|_| ())
        .map_err(|e| format!("{}: {} ({})", row.item, e, e.code))
}

/// Why a person is not eligible on `as_of` (第三条), as codes.
pub fn ineligibility(person: &[Row], as_of: Date) -> Vec<&'static str> {
    let mut reasons = Vec::new();
    let id = IdNumber::parse(&person[0].id_number).expect("valid ID");
    if age_on(id.birth_date(), as_of) < 18 {
        reasons.push("UNDER_18");
    }
    let of = |item: &'static str| person.iter().filter(move |r| r.item == item);
    let capacity = of("B02")
        .filter(|r| r.record_date() <= as_of)
        .max_by_key(|r| r.record_date());
    if capacity.is_some_and(|r| r.text("capacity") != Some("full")) {
        reasons.push("LIMITED_CAPACITY");
    }
    let registered = of("B03")
        .filter(|r| r.record_date() <= as_of)
        .max_by_key(|r| r.record_date())
        .is_some_and(|r| {
            r.fields["active"] == Value::Bool(true)
                && r.text("region_code").is_some_and(|c| c.starts_with("3306"))
        });
    let permit = of("B04")
        .any(|r| r.record_date() <= as_of && r.date("valid_until").is_some_and(|u| as_of <= u));
    if !registered && !permit {
        reasons.push("NOT_RESIDENT");
    }
    reasons
}

/// Whether `row` is monitored by `template` (its item and field conditions).
fn monitored(template: &Template, row: &Row) -> bool {
    template.monitors.iter().any(|m| {
        m.item == row.item
            && m.conditions.iter().all(|(field, values)| {
                row.text(field)
                    .is_some_and(|v| values.iter().any(|x| x == v))
            })
    })
}

/// The outcome of each of a person's commitments on `as_of`, by the domain's rule.
pub fn commitment_outcomes(
    catalogue: &Catalogue,
    person: &[Row],
    as_of: Date,
) -> Vec<CommitmentOutcome> {
    person
        .iter()
        .filter(|r| r.item == "C01")
        .map(|c| {
            let template = catalogue
                .templates
                .get(c.text("template").expect("template"))
                .expect("known template");
            let signed_on = c.record_date();
            let watched = person
                .iter()
                .enumerate()
                .filter(|(_, r)| monitored(template, r))
                .map(|(i, r)| (r.record_date(), i as i64));
            outcome(signed_on, template.term_end(signed_on), as_of, watched)
        })
        .collect()
}

pub mod score;
