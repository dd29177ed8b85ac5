//! The backends must not only pass the same tests but agree exactly: the
//! same calls on a fresh SQLite and a fresh PostgreSQL database give the same
//! results, ids included. Covers the corners a set-wise implementation can
//! get wrong: repeats and corrections within one batch, a correction that
//! moves a record to another person, pending records, and one person scored
//! twice in one `save_scores` call.

use std::sync::Arc;

use chengxin_domain::record::{NewRecord, RecordStatus};
use chengxin_domain::IdNumber;
use chengxin_jobs::uow::Change;
use chengxin_jobs::{store_chunk, Context};
use chengxin_store::{Cause, ModelStamp, RawPerson, Scan, ScoreRow, ScoreState, Store};
use chengxin_testkit::{backends, id_number, record};
use jiff::civil::date;
use serde_json::json;

fn stamp() -> ModelStamp {
    ModelStamp {
        version: "2026.1".into(),
        hash: "h".repeat(64),
        as_of: date(2026, 6, 1),
    }
}

fn score_of(p: &RawPerson) -> ScoreRow {
    let n = p.records.len() as i32;
    ScoreRow {
        person_id: p.id,
        rev: p.rev,
        state: ScoreState {
            eligible: n > 0,
            score: (n > 0).then_some(500 + 10 * n),
            grade: (n > 0).then(|| "C".into()),
        },
        reasons: if n > 0 {
            String::new()
        } else {
            "NOT_RESIDENT".into()
        },
        next_change: None,
    }
}

fn penalty(source: &str, level: &str, who: u32) -> NewRecord {
    record(
        "SX-TAX",
        source,
        id_number("330602", "19900101", who),
        &format!("人{who}"),
        "P01",
        json!({"level": level, "decided_on": "2026-03-01", "authority": "绍兴市税务局", "case_no": "1", "domain": "tax"}),
    )
}

fn volunteer(source: &str, hours: &str, who: u32) -> NewRecord {
    let mut r = record(
        "SELF",
        source,
        id_number("330602", "19900101", who),
        &format!("人{who}"),
        "O03",
        json!({"hours": hours, "served_on": "2026-01-01", "organisation": "o"}),
    );
    r.status = RecordStatus::Pending;
    r
}

/// A record whose source id holds tabs, newlines and backslashes (the store
/// must keep them even though validation now refuses them), and whose
/// fields hold backslashes and quotes.
fn awkward(who: u32) -> NewRecord {
    record(
        "SX-TAX",
        "tab\there\\and\nnewline\r",
        id_number("330602", "19900101", who),
        "名\t字",
        "P01",
        json!({"level": "minor", "decided_on": "2026-03-01", "authority": "back\\slash \"quoted\"", "case_no": "1", "domain": "tax"}),
    )
}

fn find(s: &dyn Store, id: &IdNumber) -> Option<i64> {
    let index = s.keys().blind_index(id.as_str().as_bytes());
    s.read().unwrap().find_person(&index).unwrap()
}

fn save(s: &dyn Store, rows: &[ScoreRow], stamp: &ModelStamp) -> usize {
    let mut tx = s.write().unwrap();
    let n = tx.save_scores(rows, stamp, Cause::Recompute).unwrap().len();
    tx.commit().unwrap();
    n
}

fn load(s: &dyn Store, pid: i64) -> RawPerson {
    s.read()
        .unwrap()
        .load_people(&[pid], "2026.1")
        .unwrap()
        .pop()
        .unwrap()
}

/// Everything observable about people 0..8, as text.
fn snapshot(s: &dyn Store, log: &mut Vec<String>) {
    let mut tx = s.read().unwrap();
    for who in 0..8 {
        let Some(pid) = find(s, &id_number("330602", "19900101", who)) else {
            continue;
        };
        log.push(format!("person {who} = {pid}"));
        log.push(format!("  records {:?}", tx.person_records(pid).unwrap()));
        log.push(format!(
            "  loaded {:?}",
            tx.load_people(&[pid], "2026.1").unwrap()
        ));
        log.push(format!(
            "  score {:?}",
            tx.score(pid, "2026.1")
                .unwrap()
                .map(|s| (s.state, s.reasons, s.as_of))
        ));
        let history: Vec<_> = tx
            .score_history(pid)
            .unwrap()
            .into_iter()
            .map(|h| (h.model_version, h.as_of, h.state, h.cause))
            .collect();
        log.push(format!("  history {history:?}"));
        log.push(format!("  identity {:?}", tx.identity(pid).unwrap()));
    }
    log.push(format!("counts {:?}", tx.counts("2026.1").unwrap()));
    log.push(format!("grades {:?}", tx.grade_counts("2026.1").unwrap()));
}

fn transcript(ctx: &Context) -> Vec<String> {
    let s = &*ctx.store;
    let mut log = Vec::new();
    let bulk = Change::bulk(Cause::Import, "test");

    let first = [
        penalty("a", "general", 1),
        penalty("a", "general", 1), // repeat within the batch
        penalty("a", "serious", 1), // corrected within the batch
        penalty("b", "general", 2),
        penalty("b", "general", 3), // moved to another person within the batch
        volunteer("v", "10", 4),
        penalty("c", "minor", 5),
    ];
    log.push(format!(
        "first {:?}",
        store_chunk(ctx, &first, &bulk).unwrap()
    ));
    snapshot(s, &mut log);

    let second = [
        penalty("a", "serious", 1), // duplicate of the stored head
        volunteer("v", "12", 4),    // corrects a pending record
        penalty("b", "general", 2), // moved back
        penalty("b", "serious", 2),
        penalty("d", "general", 6),
        awkward(6), // text that bulk loading must escape
    ];
    log.push(format!(
        "second {:?}",
        store_chunk(ctx, &second, &bulk).unwrap()
    ));

    let mut dirty = Vec::new();
    s.scan(
        Scan::Dirty {
            model_version: "2026.1",
        },
        2,
        &mut |b| {
            dirty.push(b.iter().map(|p| p.id).collect::<Vec<_>>());
            let rows: Vec<ScoreRow> = b.iter().map(score_of).collect();
            // The recompute job saves from within the scan.
            save(s, &rows, &stamp());
            Ok(())
        },
    )
    .unwrap();
    log.push(format!("dirty batches {dirty:?}"));
    snapshot(s, &mut log);

    // One person twice in a call: the second row sees the first's result.
    let p1 = load(s, find(s, &id_number("330602", "19900101", 1)).unwrap());
    let mut bumped = score_of(&p1);
    bumped.state.score = Some(999);
    let again = score_of(&p1);
    log.push(format!(
        "twice {}",
        save(s, &[bumped, score_of(&p1), again], &stamp())
    ));

    let third = [
        penalty("e", "general", 7),
        penalty("b", "minor", 3),
        penalty("e", "general", 7),
    ];
    log.push(format!(
        "third {:?}",
        store_chunk(ctx, &third, &bulk).unwrap()
    ));
    log.push(format!("empty {:?}", store_chunk(ctx, &[], &bulk).unwrap()));
    // Stored scores rewritten as of a later day: a sparse and a dense set of
    // people (the backend may read those differently).
    let later = |day: i8| ModelStamp {
        as_of: date(2026, 7, day),
        ..stamp()
    };
    let everyone: Vec<RawPerson> = (1..=7)
        .filter_map(|who| find(s, &id_number("330602", "19900101", who)))
        .map(|id| load(s, id))
        .collect();
    let mut sparse = vec![score_of(&everyone[0]), score_of(&everyone[6])];
    sparse[1].state.score = Some(777);
    log.push(format!("sparse {}", save(s, &sparse, &later(1))));
    let all: Vec<ScoreRow> = everyone.iter().map(score_of).collect();
    log.push(format!("dense {}", save(s, &all, &later(2))));
    log.push(format!("save none {}", save(s, &[], &stamp())));
    snapshot(s, &mut log);

    let mut all = Vec::new();
    s.scan(
        Scan::All {
            model_version: "2026.1",
        },
        3,
        &mut |b| {
            all.push(b);
            Ok(())
        },
    )
    .unwrap();
    log.push(format!("all {all:?}"));
    log
}

#[test]
fn backends_agree_exactly() {
    let transcripts: Vec<(String, Vec<String>)> = backends()
        .iter()
        .map(|db| {
            let ctx = Context::new(Arc::from(db.open())).unwrap();
            (ctx.store.backend().to_string(), transcript(&ctx))
        })
        .collect();
    let (reference, expected) = &transcripts[0];
    for (backend, got) in &transcripts[1..] {
        for (i, (e, g)) in expected.iter().zip(got).enumerate() {
            assert_eq!(e, g, "line {i}: {reference} vs {backend}");
        }
        assert_eq!(expected.len(), got.len());
    }
    // The scenario did what it meant to.
    let text = expected.join("\n");
    assert!(text.contains("Corrected"), "{text}");
    assert!(text.contains("Duplicate"), "{text}");
}
