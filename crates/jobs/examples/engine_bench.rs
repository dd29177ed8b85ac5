//! Benchmark (a): persons scored per second on one core by the pure engine.
//!
//! `cargo run --release -p chengxin-jobs --example engine_bench -- [RESIDENTS]`
//!
//! Generates a synthetic population in memory, decodes it into engine input
//! once, then times `Engine::evaluate` over everyone on a single thread.

use std::collections::BTreeMap;
use std::time::Instant;

use chengxin_domain::catalogue::Raw;
use chengxin_domain::record::{PersonInput, Record, RecordStatus};
use chengxin_domain::{Catalogue, Engine, Model};

fn main() {
    let residents: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let as_of = jiff::civil::date(2026, 11, 1);
    let mut data = Vec::new();
    chengxin_synth::generate(
        &chengxin_synth::GenerateOptions {
            residents,
            seed: 1,
            as_of,
        },
        &mut data,
    )
    .expect("generate");
    let catalogue = Catalogue::builtin();
    let model = Model::builtin(&catalogue);
    let engine = Engine::new(&catalogue, &model).expect("engine");
    let mut people: BTreeMap<String, PersonInput> = BTreeMap::new();
    for (n, line) in data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let v: serde_json::Value = serde_json::from_slice(line).expect("json");
        let item_code = v["item"].as_str().expect("item");
        let idx = catalogue
            .items
            .iter()
            .position(|i| i.code == item_code)
            .expect("known item");
        let item = &catalogue.items[idx];
        let map = v["fields"].as_object().expect("fields");
        let fields = catalogue
            .validate(item, map.iter().map(|(k, v)| (k.as_str(), Raw::Json(v))))
            .expect("valid");
        let id = chengxin_domain::IdNumber::parse(v["id_number"].as_str().expect("id"))
            .expect("valid id");
        let p = people
            .entry(id.as_str().to_owned())
            .or_insert_with(|| PersonInput {
                birth_date: id.birth_date(),
                records: Vec::new(),
            });
        p.records.push(Record {
            id: n as i64,
            item: idx,
            date: item.record_date(&fields),
            status: RecordStatus::Active,
            fields,
        });
    }
    let people: Vec<PersonInput> = people.into_values().collect();
    let records: usize = people.iter().map(|p| p.records.len()).sum();
    // Warm up, then measure three passes and keep the best.
    let mut best = f64::MAX;
    let mut checksum = 0i64;
    for _ in 0..3 {
        let start = Instant::now();
        for p in &people {
            checksum += i64::from(engine.evaluate(p, as_of).score.unwrap_or(0));
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "engine: {} persons ({} records) in {:.3} s on one core = {:.0} persons/s (checksum {checksum})",
        people.len(),
        records,
        best,
        people.len() as f64 / best
    );
}
