//! Residents' own workflows on every backend: signing commitments (第八条)
//! and self-reporting with evidence (第十二条), each with the score before
//! and after, the bad inputs each refuses, and one resident never seeing
//! another's.

use std::sync::Arc;

use chengxin_domain::commitment::CommitmentStatus;
use chengxin_domain::self_report::{Decision, EvidenceError, ReportStatus, MAX_EVIDENCE_BYTES};
use chengxin_domain::IdNumber;
use chengxin_jobs::commitments::{self, text_hash, SignError};
use chengxin_jobs::push::{push_record, Caller};
use chengxin_jobs::resident::Resident;
use chengxin_jobs::self_reports::{self, DecideError, ReportError, Verifier};
use chengxin_jobs::units::{add_unit, Unit};
use chengxin_jobs::uow::Change;
use chengxin_jobs::{explain, store_chunk, Context};
use chengxin_store::Cause;
use chengxin_testkit::{backends, id_number, record, TestDb};
use serde_json::json;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

fn person(n: u32) -> IdNumber {
    id_number("330602", "19850101", n)
}

fn me(id: &IdNumber) -> Resident<'_> {
    Resident {
        id_number: id,
        name: Some("测试居民"),
        request_id: None,
    }
}

/// A context with an eligible resident `n` (registered in Shaoxing, no
/// other records: 600 points).
fn setup(db: &TestDb, people: &[u32]) -> Context {
    let ctx = Context::new(Arc::from(db.open())).unwrap();
    let rows: Vec<_> = people
        .iter()
        .map(|&n| {
            record(
                "SX-PSB",
                &format!("h{n}"),
                person(n),
                "测试居民",
                "B03",
                json!({"region_code": "330602", "registered_on": "2000-01-01", "active": true}),
            )
        })
        .collect();
    store_chunk(&ctx, &rows, &Change::bulk(Cause::Import, "test")).unwrap();
    chengxin_jobs::recompute(
        &ctx,
        chengxin_jobs::Target::Changed,
        chengxin_jobs::today(),
        Cause::Import,
        &(),
    )
    .unwrap();
    ctx
}

/// The stored score, checked equal to one computed afresh.
fn score(ctx: &Context, id: &IdNumber) -> i32 {
    let x = explain(ctx, id, chengxin_jobs::today()).unwrap().unwrap();
    let stored = x.stored.as_ref().unwrap().state.score.unwrap();
    assert_eq!(
        Some(stored),
        x.evaluation().score,
        "stored score is current"
    );
    stored
}

fn unit(ctx: &Context, code: &str, items: &[&str]) -> Unit {
    let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    add_unit(ctx, code, "测试单位", &items, "test").unwrap().0
}

/// Read entries of `actor` in the sealed audit log.
fn reads_by(ctx: &Context, actor: &str) -> Vec<String> {
    ctx.store.seal_audit().unwrap();
    let mut tx = ctx.store.read().unwrap();
    tx.audit_entries(0, 1_000_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.event.actor == actor && e.event.action == "person.read")
        .map(|e| {
            e.event.detail["what"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn signing_a_commitment_scores_it_and_a_penalty_breaches_it() {
    for db in backends() {
        let ctx = setup(&db, &[1, 2]);
        let (a, b) = (person(1), person(2));
        assert_eq!(score(&ctx, &a), 600, "{}", db.url);

        let templates = commitments::templates(&ctx).unwrap();
        assert_eq!(
            templates
                .iter()
                .map(|t| t.code.as_str())
                .collect::<Vec<_>>(),
            ["T01", "T02", "T03"]
        );
        assert_eq!(templates[0].title, "遵纪守法");

        let today = chengxin_jobs::today();
        let c = commitments::sign(&ctx, me(&a), "T01").unwrap();
        assert_eq!(c.template, "T01");
        assert_eq!(c.signed_on, today);
        assert_eq!(
            c.valid_until,
            chengxin_domain::dates::add_months(today, 12)
                .yesterday()
                .unwrap()
        );
        assert_eq!(c.status, CommitmentStatus::Active);
        assert_eq!(
            score(&ctx, &a),
            605,
            "{}: +5 for a commitment in force",
            db.url
        );

        // The signature keeps the signed text and its hash.
        let x = explain(&ctx, &a, today).unwrap().unwrap();
        let rec = x.records.iter().find(|r| r.id == c.id).unwrap();
        assert_eq!((rec.unit.as_str(), rec.item.as_str()), ("resident", "C01"));
        let text = rec.fields["text"].as_str().unwrap();
        assert_eq!(text, templates[0].text);
        assert_eq!(rec.fields["text_sha256"], json!(text_hash(text)));
        assert_eq!(text_hash(text).len(), 64);

        // The same template again while active, and an unknown one, are refused.
        assert!(matches!(
            commitments::sign(&ctx, me(&a), "T01"),
            Err(SignError::AlreadyActive { existing, .. }) if existing == c.id
        ));
        assert!(matches!(
            commitments::sign(&ctx, me(&a), "T99"),
            Err(SignError::UnknownTemplate(t)) if t == "T99"
        ));
        assert_eq!(score(&ctx, &a), 605);

        // A general penalty inside the term breaches T01: −20 and −30.
        let enforcer = unit(&ctx, "SX-TRAFFIC", &["P01"]);
        let body = json!({"source_id": "p1", "item": "P01", "id_number": a.as_str(),
            "fields": {"level": "general", "decided_on": today.to_string(), "authority": "交警",
                       "case_no": "1", "domain": "traffic"}});
        let pushed = push_record(
            &ctx,
            Caller {
                unit: &enforcer,
                request_id: None,
                client_request_id: None,
            },
            body.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(score(&ctx, &a), 555, "{}", db.url);
        let list = commitments::list(&ctx, me(&a)).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].status, CommitmentStatus::Breached);
        assert_eq!(list[0].breached_by, Some(pushed.record_id));
        // Breached, it is no longer active: T01 may be signed again (a new
        // signature, breached at once by the same penalty, as is T03).
        let again = commitments::sign(&ctx, me(&a), "T01").unwrap();
        assert_ne!(again.id, c.id);
        assert_eq!(again.status, CommitmentStatus::Breached);
        assert_eq!(again.breached_by, Some(pushed.record_id));
        // 600 + 2 × 5 signed − 2 × 30 breached − 20 penalty.
        assert_eq!(score(&ctx, &a), 530, "{}", db.url);

        // B sees none of A's, and A's reads are audited under A's name.
        assert!(commitments::list(&ctx, me(&b)).unwrap().is_empty());
        let bt = commitments::sign(&ctx, me(&b), "T02").unwrap();
        assert_eq!(score(&ctx, &b), 605);
        let mine: Vec<i64> = commitments::list(&ctx, me(&a))
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(mine, [c.id, again.id]);
        assert!(!mine.contains(&bt.id));
        assert_eq!(
            reads_by(&ctx, &me(&a).actor(&ctx)),
            ["commitments", "commitments"]
        );
    }
}

#[test]
fn a_self_report_counts_once_verified_by_the_responsible_unit() {
    for db in backends() {
        let ctx = setup(&db, &[1, 2]);
        let (a, b) = (person(1), person(2));
        let charity = unit(&ctx, "SX-CHARITY", &["O02", "P01"]);
        let civ = unit(&ctx, "SX-CIV", &["O01"]);
        let as_charity = Verifier::Unit {
            unit: &charity,
            request_id: None,
        };
        let as_civ = Verifier::Unit {
            unit: &civ,
            request_id: None,
        };
        let donation =
            r#"{"amount_cny": "5000", "donated_on": "2026-01-05", "recipient": "绍兴市慈善总会"}"#;
        let r = self_reports::submit(&ctx, me(&a), "O02", donation, &[PDF.to_vec(), PNG.to_vec()])
            .unwrap();
        assert_eq!(r.status, ReportStatus::Pending);
        assert_eq!(score(&ctx, &a), 600, "{}: pending does not count", db.url);

        let mine = self_reports::list_mine(&ctx, me(&a)).unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].status, ReportStatus::Pending);
        assert_eq!(mine[0].fields["amount_cny"], json!("5000"));
        let shas: Vec<&str> = mine[0].evidence.iter().map(|e| e.sha256.as_str()).collect();
        assert_eq!(
            shas,
            [
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(PDF)),
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(PNG))
            ]
        );
        assert_eq!(mine[0].evidence[1].media_type, "image/png");
        assert!(self_reports::list_mine(&ctx, me(&b)).unwrap().is_empty());

        // Only the unit responsible for O02 sees and decides it.
        let queue = self_reports::queue(&ctx, as_charity, ReportStatus::Pending, 0, 100).unwrap();
        assert_eq!(queue.iter().map(|q| q.id).collect::<Vec<_>>(), [r.id]);
        assert_eq!(queue[0].id_number.as_deref(), Some(a.masked().as_str()));
        assert!(
            self_reports::queue(&ctx, as_civ, ReportStatus::Pending, 0, 100)
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            self_reports::decide(&ctx, as_civ, r.id, Decision::Verified, None),
            Err(DecideError::NotFound(_))
        ));
        assert!(matches!(
            self_reports::decide(&ctx, as_charity, 999_999, Decision::Verified, None),
            Err(DecideError::NotFound(_))
        ));
        // Nor is a unit's ordinary record a report.
        let p = push_record(
            &ctx,
            Caller {
                unit: &charity,
                request_id: None,
                client_request_id: None,
            },
            json!({"source_id": "x", "item": "P01", "id_number": b.as_str(), "fields": {"level": "minor",
                "decided_on": "2026-01-01", "authority": "a", "case_no": "1", "domain": "market"}})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        assert!(matches!(
            self_reports::decide(&ctx, as_charity, p.record_id, Decision::Rejected, Some("x")),
            Err(DecideError::NotFound(_))
        ));

        let file = self_reports::evidence_file(&ctx, as_charity, r.id, shas[0])
            .unwrap()
            .unwrap();
        assert_eq!(file, ("application/pdf".to_owned(), PDF.to_vec()));
        assert!(self_reports::evidence_file(&ctx, as_civ, r.id, shas[0])
            .unwrap()
            .is_none());

        // Verified: it counts at once (2 points per full 1,000 CNY).
        let d = self_reports::decide(&ctx, as_charity, r.id, Decision::Verified, None).unwrap();
        assert_eq!(d.status, ReportStatus::Verified);
        assert_eq!(score(&ctx, &a), 610, "{}", db.url);
        assert!(matches!(
            self_reports::decide(&ctx, as_charity, r.id, Decision::Rejected, Some("late")),
            Err(DecideError::AlreadyDecided {
                status: ReportStatus::Verified,
                ..
            })
        ));

        // Rejected, with its reason; it never counts.
        let r2 = self_reports::submit(&ctx, me(&a), "O02", donation, &[PDF.to_vec()]).unwrap();
        assert!(matches!(
            self_reports::decide(&ctx, as_charity, r2.id, Decision::Rejected, None),
            Err(DecideError::InvalidReason(_))
        ));
        self_reports::decide(
            &ctx,
            as_charity,
            r2.id,
            Decision::Rejected,
            Some("重复申报"),
        )
        .unwrap();
        assert_eq!(score(&ctx, &a), 610);
        let mine = self_reports::list_mine(&ctx, me(&a)).unwrap();
        let statuses: Vec<_> = mine
            .iter()
            .map(|m| (m.status, m.reason.as_deref()))
            .collect();
        assert_eq!(
            statuses,
            [
                (ReportStatus::Verified, None),
                (ReportStatus::Rejected, Some("重复申报"))
            ]
        );
        let verified =
            self_reports::queue(&ctx, as_charity, ReportStatus::Verified, 0, 100).unwrap();
        assert_eq!(verified.iter().map(|q| q.id).collect::<Vec<_>>(), [r.id]);

        // The same content twice is one stored file; on SQLite it sits
        // beside the database, encrypted.
        if let Some(path) = &db.path {
            let dir = std::path::PathBuf::from(format!("{}-evidence", path.display()));
            let stored = std::fs::read(dir.join(&shas[0][..2]).join(shas[0])).unwrap();
            assert_ne!(stored, PDF, "evidence is encrypted at rest");
            assert!(!stored.windows(5).any(|w| w == b"%PDF-"));
        }
        assert_eq!(
            reads_by(&ctx, "unit:SX-CHARITY"),
            ["self_report", "self_report_evidence", "self_report"]
        );
    }
}

#[test]
fn bad_self_reports_are_refused_and_store_nothing() {
    for db in backends() {
        let ctx = setup(&db, &[1]);
        let a = person(1);
        let hours = r#"{"hours": "12.5", "served_on": "2026-01-05", "organisation": "志愿者协会"}"#;
        let html = b"<!DOCTYPE html><html><body>not a pdf</body></html>".to_vec();
        let mut big = PDF.to_vec();
        big.resize(MAX_EVIDENCE_BYTES + 1, b' ');
        let cases: Vec<(&str, &str, Vec<Vec<u8>>, &str)> = vec![
            ("O03", hours, vec![html], "evidence_type_not_allowed"),
            ("O03", hours, vec![PDF.to_vec(), big], "evidence_too_large"),
            (
                "O03",
                hours,
                vec![PDF.to_vec(); 6],
                "too_many_evidence_files",
            ),
            ("O03", hours, vec![], "evidence_required"),
            (
                "O04",
                r#"{"donated_on": "2026-01-05", "volume_ml": 400}"#,
                vec![PDF.to_vec()],
                "item_not_self_reportable",
            ),
            ("P01", "{}", vec![PDF.to_vec()], "item_not_self_reportable"),
            ("X99", "{}", vec![PDF.to_vec()], "unknown_item"),
            (
                "O03",
                r#"{"hours": "-1", "served_on": "2026-01-05", "organisation": "x"}"#,
                vec![PDF.to_vec()],
                "out_of_range",
            ),
            (
                "O03",
                r#"{"hours": "1", "served_on": "2026-01-05"}"#,
                vec![PDF.to_vec()],
                "missing_field",
            ),
            (
                "O03",
                r#"{"hours": "1", "served_on": "2026-01-05", "organisation": "x", "extra": 1}"#,
                vec![PDF.to_vec()],
                "unknown_field",
            ),
            (
                "O03",
                r#"{"hours": "1", "served_on": "2026-02-30", "organisation": "x"}"#,
                vec![PDF.to_vec()],
                "invalid_date",
            ),
            ("O03", "{not json", vec![PDF.to_vec()], "malformed_json"),
            ("O03", "[1]", vec![PDF.to_vec()], "invalid_field"),
        ];
        for (item, fields, files, code) in cases {
            let err = self_reports::submit(&ctx, me(&a), item, fields, &files).unwrap_err();
            let got = match &err {
                ReportError::Invalid(e) => e.code,
                ReportError::NotSelfReportable(_) => "item_not_self_reportable",
                ReportError::Evidence(e) => e.code(),
                ReportError::Job(e) => panic!("{item} {fields}: {e}"),
            };
            assert_eq!(got, code, "{}: {item} {fields}: {err}", db.url);
        }
        assert!(matches!(
            self_reports::submit(&ctx, me(&a), "O03", hours, &vec![PDF.to_vec(); 6]),
            Err(ReportError::Evidence(EvidenceError::TooMany(6)))
        ));
        assert!(self_reports::list_mine(&ctx, me(&a)).unwrap().is_empty());
        assert_eq!(score(&ctx, &a), 600);
        // A good one after all that: volunteer hours count once verified.
        let r = self_reports::submit(&ctx, me(&a), "O03", hours, &[PNG.to_vec()]).unwrap();
        let volunteers = unit(&ctx, "SX-VOL", &["O03"]);
        self_reports::decide(
            &ctx,
            Verifier::Unit {
                unit: &volunteers,
                request_id: None,
            },
            r.id,
            Decision::Verified,
            Some("核实无误"),
        )
        .unwrap();
        assert_eq!(
            score(&ctx, &a),
            602,
            "{}: 2 points per full 10 hours",
            db.url
        );
    }
}
