//! The backends must not only pass the contract but agree exactly: the same
//! calls on a fresh SQLite and a fresh PostgreSQL database give the same
//! results, ids included. Covers the corners a set-wise implementation can
//! get wrong: repeats and corrections within one batch, a correction that
//! moves a record to another person, pending records, and one person scored
//! twice in one `save_scores` call.

use chengxin_domain::record::RecordStatus;
use chengxin_store::{
    Cause, Inline, ModelStamp, ModelStatus, NewRecord, RawPerson, Scan, ScoreRow, ScoreState,
    Store, StoredModel,
};
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

/// A record whose source id and fields hold tabs, newlines and backslashes.
fn awkward(who: u32) -> NewRecord {
    record(
        "SX-TAX",
        "tab\there\\and\nnewline\r",
        id_number("330602", "19900101", who),
        "名\t字",
        "P01",
        json!({"level": "minor", "decided_on": "2026-03-01", "authority": "back\\slash\ttab\nline", "case_no": "1", "domain": "tax"}),
    )
}

/// Everything observable about people 0..8, as text.
fn snapshot(s: &dyn Store, log: &mut Vec<String>) {
    for who in 0..8 {
        let Some(pid) = s
            .find_person(&id_number("330602", "19900101", who))
            .unwrap()
        else {
            continue;
        };
        log.push(format!("person {who} = {pid}"));
        log.push(format!("  records {:?}", s.person_records(pid).unwrap()));
        log.push(format!(
            "  loaded {:?}",
            s.load_person(pid, "2026.1").unwrap()
        ));
        log.push(format!("  score {:?}", s.score(pid, "2026.1").unwrap()));
        let history: Vec<_> = s
            .score_history(pid)
            .unwrap()
            .into_iter()
            .map(|h| (h.model_version, h.as_of, h.state, h.cause))
            .collect();
        log.push(format!("  history {history:?}"));
        log.push(format!("  identity {:?}", s.person_identity(pid).unwrap()));
    }
    log.push(format!("counts {:?}", s.counts().unwrap()));
    log.push(format!("grades {:?}", s.grade_counts("2026.1").unwrap()));
}

fn transcript(s: &dyn Store) -> Vec<String> {
    let mut log = Vec::new();
    s.stage_model(&StoredModel {
        version: "2026.1".into(),
        hash: "h".repeat(64),
        content: "c".into(),
        effective_from: date(2026, 1, 1),
        status: ModelStatus::Staged,
    })
    .unwrap();
    s.activate_model("2026.1").unwrap();

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
        s.ingest(
            &first,
            &chengxin_store::Change::bulk(Cause::Import, "test"),
            None
        )
        .unwrap()
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
        s.ingest(
            &second,
            &chengxin_store::Change::bulk(Cause::Import, "test"),
            None
        )
        .unwrap()
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
            s.save_scores(
                &rows,
                &stamp(),
                &chengxin_store::Change::bulk(Cause::Recompute, "test"),
            )?;
            Ok(())
        },
    )
    .unwrap();
    log.push(format!("dirty batches {dirty:?}"));
    snapshot(s, &mut log);

    // One person twice in a call: the second row sees the first's result.
    let p1 = s
        .load_person(
            s.find_person(&id_number("330602", "19900101", 1))
                .unwrap()
                .unwrap(),
            "2026.1",
        )
        .unwrap()
        .unwrap();
    let mut bumped = score_of(&p1);
    bumped.state.score = Some(999);
    let again = score_of(&p1);
    log.push(format!(
        "twice {}",
        s.save_scores(
            &[bumped, score_of(&p1), again],
            &stamp(),
            &chengxin_store::Change::bulk(Cause::Recompute, "test")
        )
        .unwrap()
    ));

    let score = |_: &StoredModel, p: &RawPerson| Ok(score_of(p));
    let inline = Inline {
        as_of: date(2026, 6, 1),
        score: &score,
    };
    let third = [
        penalty("e", "general", 7),
        penalty("b", "minor", 3),
        penalty("e", "general", 7),
    ];
    log.push(format!(
        "third {:?}",
        s.ingest(
            &third,
            &chengxin_store::Change::bulk(Cause::Push, "test"),
            Some(&inline)
        )
        .unwrap()
    ));
    log.push(format!(
        "empty {:?}",
        s.ingest(
            &[],
            &chengxin_store::Change::bulk(Cause::Push, "test"),
            Some(&inline)
        )
        .unwrap()
    ));
    // Stored scores rewritten as of a later day: a sparse and a dense set of
    // people (the backend may read those differently).
    let later = |day: i8| ModelStamp {
        as_of: date(2026, 7, day),
        ..stamp()
    };
    let everyone: Vec<RawPerson> = (1..=7)
        .filter_map(|who| {
            s.find_person(&id_number("330602", "19900101", who))
                .unwrap()
        })
        .filter_map(|id| s.load_person(id, "2026.1").unwrap())
        .collect();
    let mut sparse = vec![score_of(&everyone[0]), score_of(&everyone[6])];
    sparse[1].state.score = Some(777);
    let bulk = chengxin_store::Change::bulk(Cause::Recompute, "test");
    log.push(format!(
        "sparse {}",
        s.save_scores(&sparse, &later(1), &bulk).unwrap()
    ));
    let all: Vec<ScoreRow> = everyone.iter().map(score_of).collect();
    log.push(format!(
        "dense {}",
        s.save_scores(&all, &later(2), &bulk).unwrap()
    ));
    log.push(format!(
        "save none {}",
        s.save_scores(
            &[],
            &stamp(),
            &chengxin_store::Change::bulk(Cause::Recompute, "test")
        )
        .unwrap()
    ));
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
            let s = db.open();
            (s.backend().to_string(), transcript(s.as_ref()))
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
