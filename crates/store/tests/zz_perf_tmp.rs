//! TEMPORARY measurement, not a test. Deleted after use.

use std::time::Instant;

use chengxin_store::{Cause, NewRecord, RawPerson, Scan, ScoreRow, ScoreState, Store};
use chengxin_testkit::{id_number, record, TestDb};
use jiff::civil::date;
use jiff::ToSpan;
use serde_json::json;

fn person_id(k: u32) -> chengxin_domain::IdNumber {
    let birth = date(1950, 1, 1)
        .checked_add(((k / 1000) as i64).days())
        .unwrap();
    let b = birth.strftime("%Y%m%d").to_string();
    id_number("330602", &b, k % 1000)
}

fn rows(n: u32, per_person: u32) -> Vec<NewRecord> {
    let template = record(
        "SX-TAX",
        "x",
        person_id(0),
        "张三",
        "P01",
        json!({"level": "general", "decided_on": "2026-03-01", "authority": "绍兴市税务局", "case_no": "绍税罚〔2026〕12号", "domain": "tax"}),
    );
    (0..n)
        .map(|i| {
            let mut r = template.clone();
            r.source_id = format!("2026-{i:08}");
            r.id_number = person_id(i / per_person);
            r.fields = r.fields.replace("12号", &format!("{i}号"));
            r
        })
        .collect()
}

fn score(p: &RawPerson) -> ScoreRow {
    ScoreRow {
        person_id: p.id,
        rev: p.rev,
        state: ScoreState {
            eligible: true,
            score: Some(500 + p.records.len() as i32),
            grade: Some("C".into()),
        },
        reasons: String::new(),
    }
}

fn measure(store: &dyn Store, n: u32, per_person: u32, batch: usize) {
    let all = rows(n, per_person);
    let t = Instant::now();
    for chunk in all.chunks(batch) {
        store.ingest(chunk, Cause::Import, None).unwrap();
    }
    let e = t.elapsed();
    eprintln!(
        "[{}] ingest {n} rows ({per_person}/person) in batches of {batch}: {:.2?} = {:.0} rows/s",
        store.backend(),
        e,
        n as f64 / e.as_secs_f64()
    );
    let t = Instant::now();
    store.ingest(&all[..batch], Cause::Import, None).unwrap();
    eprintln!(
        "[{}] re-ingest {batch} duplicates: {:.2?}",
        store.backend(),
        t.elapsed()
    );

    let t = Instant::now();
    let mut people = Vec::new();
    store
        .scan(
            Scan::All {
                model_version: "2026.1",
            },
            10_000,
            &mut |b| {
                people.extend(b);
                Ok(())
            },
        )
        .unwrap();
    let e = t.elapsed();
    let recs: usize = people.iter().map(|p| p.records.len()).sum();
    eprintln!(
        "[{}] scan {} people / {recs} records: {:.2?} = {:.0} records/s",
        store.backend(),
        people.len(),
        e,
        recs as f64 / e.as_secs_f64()
    );
    let scores: Vec<ScoreRow> = people.iter().map(score).collect();
    let t = Instant::now();
    let mut changed = 0;
    for c in scores.chunks(10_000) {
        changed += store.save_scores(c, &stamp(), Cause::Recompute).unwrap();
    }
    let e = t.elapsed();
    eprintln!("[{}] save_scores {} rows (first, batches of 10k, {changed} changed): {:.2?} = {:.0} rows/s", store.backend(), scores.len(), e, scores.len() as f64 / e.as_secs_f64());
    let t = Instant::now();
    let changed = store
        .save_scores(&scores, &stamp(), Cause::Recompute)
        .unwrap();
    let e = t.elapsed();
    eprintln!(
        "[{}] save_scores {} rows (again, one call, {changed} changed): {:.2?} = {:.0} rows/s",
        store.backend(),
        scores.len(),
        e,
        scores.len() as f64 / e.as_secs_f64()
    );
}

fn stamp() -> chengxin_store::ModelStamp {
    chengxin_store::ModelStamp {
        version: "2026.1".into(),
        hash: "h".repeat(64),
        as_of: date(2026, 6, 1),
    }
}

fn big(store: &dyn Store) {
    let mode = std::env::var("PERF_MODE").unwrap();
    let t = Instant::now();
    let mut people = 0usize;
    let mut recs = 0usize;
    let mut scores: Vec<Vec<ScoreRow>> = Vec::new();
    let keep = mode.contains("save");
    let dirty = mode.contains("dirty");
    let scan = if dirty {
        Scan::Dirty {
            model_version: "2026.1",
        }
    } else {
        Scan::All {
            model_version: "2026.1",
        }
    };
    store
        .scan(scan, 4096, &mut |b| {
            people += b.len();
            recs += b.iter().map(|p| p.records.len()).sum::<usize>();
            if keep {
                scores.push(b.iter().map(score).collect());
            }
            Ok(())
        })
        .unwrap();
    let e = t.elapsed();
    eprintln!(
        "[{}] scan {people} people / {recs} records: {:.2?} = {:.0} records/s",
        store.backend(),
        e,
        recs as f64 / e.as_secs_f64()
    );
    if keep {
        let t = Instant::now();
        let mut changed = 0;
        for c in &scores {
            changed += store.save_scores(c, &stamp(), Cause::Recompute).unwrap();
        }
        let e = t.elapsed();
        eprintln!("[{}] save_scores {people} rows in batches of 4096 ({changed} changed): {:.2?} = {:.0} rows/s", store.backend(), e, people as f64 / e.as_secs_f64());
    }
}

#[test]
fn perf() {
    if std::env::var("PERF_MODE").is_ok() {
        let url = std::env::var("PERF_URL").unwrap();
        let s = chengxin_store::open_with_keys(&url, chengxin_testkit::test_keys()).unwrap();
        big(s.as_ref());
        return;
    }
    let n: u32 = std::env::var("PERF_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let per: u32 = std::env::var("PERF_PER")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let batch: usize = std::env::var("PERF_BATCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    if std::env::var("PERF_SQLITE").is_ok() {
        let db = TestDb::sqlite();
        measure(db.open().as_ref(), n, per, batch);
    }
    if let Ok(url) = std::env::var("PERF_URL") {
        let s = chengxin_store::open_with_keys(&url, chengxin_testkit::test_keys()).unwrap();
        measure(s.as_ref(), n, per, batch);
        return;
    }
    let db = TestDb::postgres().unwrap();
    measure(db.open().as_ref(), n, per, batch);
}
