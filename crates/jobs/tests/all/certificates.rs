//! Score certificates on every backend: signing (grade and threshold, the
//! pairwise `sub`), the key set through rotations, the signing key file
//! checked against the database, one table of valid and altered
//! certificates through the verifier, and two cities verifying each
//! other's certificates through their partner registrations.

use std::path::PathBuf;
use std::sync::Arc;

use chengxin_domain::certificate::{Refusal, VALIDITY_SECONDS};
use chengxin_domain::IdNumber;
use chengxin_jobs::certificates::{
    self, add_partner, issue, published_keys, rotate, verify, Ask, CertConfig, CertError,
};
use chengxin_jobs::uow::Change;
use chengxin_jobs::{store_chunk, Context};
use chengxin_store::Cause;
use chengxin_testkit::certs as alter;
use chengxin_testkit::{backends, id_number, record, TestDb};
use serde_json::json;

const DAY: i64 = 86_400;

pub struct City {
    pub ctx: Context,
    pub keys: PathBuf,
    _dir: tempfile::TempDir,
}

/// A city on `db` with its own key directory.
pub fn city(db: &TestDb, url: &str, code: &str) -> City {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("cert-keys");
    let ctx = Context::new(Arc::from(db.open()))
        .unwrap()
        .with_certificates(CertConfig {
            city_url: url.into(),
            city_code: code.into(),
            keys_dir: Some(keys.clone()),
        });
    City {
        ctx,
        keys,
        _dir: dir,
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A scored resident (registered, provincial evaluation `evaluation`):
/// their person id and stored score.
pub fn scored(ctx: &Context, n: u32, evaluation: i32) -> (IdNumber, i64, i32, String) {
    let id = id_number("330602", "19900101", n);
    let today = chengxin_jobs::today();
    let rows = vec![
        record(
            "SX-PSB",
            &format!("{}-b03", id.as_str()),
            id,
            "测试甲",
            "B03",
            json!({"region_code": "330602", "registered_on": "2000-01-01", "active": true}),
        ),
        record(
            "ZJ-CREDIT",
            &format!("{}-b01", id.as_str()),
            id,
            "测试甲",
            "B01",
            json!({"score": evaluation, "evaluated_on": today.to_string()}),
        ),
    ];
    store_chunk(ctx, &rows, &Change::bulk(Cause::Import, "test")).unwrap();
    chengxin_jobs::recompute(
        ctx,
        chengxin_jobs::Target::Changed,
        today,
        Cause::Import,
        &(),
    )
    .unwrap();
    let index = ctx.store.keys().blind_index(id.as_str().as_bytes());
    let mut tx = ctx.store.read().unwrap();
    let pid = tx.find_person(&index).unwrap().unwrap();
    let version = chengxin_jobs::model_in_force(ctx).unwrap().version;
    let state = tx.score(pid, &version).unwrap().unwrap().state;
    (id, pid, state.score.unwrap(), state.grade.unwrap())
}

/// The verifier cases: keys rotated at past times so that one retired key
/// has dropped out of the key set and another is still published.
pub fn cases(ctx: &Context, pid: i64) -> Vec<(&'static str, String, Option<Refusal>)> {
    let t = now();
    let party = "bank-1";
    rotate(ctx, t - 40 * DAY).unwrap();
    let by_dropped = issue(ctx, pid, party, Ask::Grade, t - 40 * DAY).unwrap();
    rotate(ctx, t - 35 * DAY).unwrap();
    let by_retired = issue(ctx, pid, party, Ask::Grade, t - 20 * DAY).unwrap();
    rotate(ctx, t - 10 * DAY).unwrap();
    let valid = issue(ctx, pid, party, Ask::Grade, t).unwrap().jws;
    let threshold = issue(ctx, pid, party, Ask::Threshold(600), t).unwrap().jws;
    let expired = issue(ctx, pid, party, Ask::Grade, t - 31 * DAY)
        .unwrap()
        .jws;
    vec![
        ("valid", valid.clone(), None),
        ("threshold", threshold, None),
        (
            "payload byte changed",
            alter::payload_byte_changed(&valid),
            Some(Refusal::BadSignature),
        ),
        (
            "signature byte changed",
            alter::signature_byte_changed(&valid),
            Some(Refusal::BadSignature),
        ),
        (
            "wrong kid",
            alter::with_kid(&valid, "no-such-key"),
            Some(Refusal::UnknownKey),
        ),
        (
            "another published kid",
            alter::with_kid(&valid, &by_retired.kid),
            Some(Refusal::BadSignature),
        ),
        ("expired", expired, Some(Refusal::Expired)),
        (
            "rotated-out key, its certificates expired",
            by_dropped.jws,
            Some(Refusal::UnknownKey),
        ),
        ("rotated-out key, before expiry", by_retired.jws, None),
        (
            "alg none",
            alter::alg_none(&valid),
            Some(Refusal::AlgNotAllowed),
        ),
        ("not a JWS", "abc.def".into(), Some(Refusal::Malformed)),
    ]
}

#[test]
fn one_table_of_certificates_through_the_verifier() {
    for db in backends() {
        let c = city(&db, "https://sx.example", "shaoxing");
        let (_, pid, score, grade) = scored(&c.ctx, 1, 870);
        for (name, jws, want) in cases(&c.ctx, pid) {
            let v = verify(&c.ctx, &jws, now()).unwrap();
            assert_eq!(v.reason, want, "{}: {name}", db.backend());
            assert_eq!(v.valid, want.is_none(), "{name}");
            if want.is_none() {
                assert_eq!(v.city.as_deref(), Some("shaoxing"), "{name}");
                if v.grade.is_some() {
                    assert_eq!(v.grade.as_deref(), Some(grade.as_str()));
                    assert_eq!(v.local_grade.as_deref(), Some(grade.as_str()));
                } else {
                    assert_eq!((v.threshold, v.met), (Some(600), Some(score >= 600)));
                }
            }
        }
        // Three rotations: the first key has dropped out, the other two remain.
        let kids: Vec<String> = published_keys(&c.ctx, now())
            .unwrap()
            .keys
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(kids.len(), 2, "{kids:?}");
        assert_eq!(std::fs::read_dir(&c.keys).unwrap().count(), 3);
    }
}

#[test]
fn certificates_say_one_thing_about_a_pseudonymous_subject() {
    for db in backends() {
        let c = city(&db, "https://sx.example", "shaoxing");
        let (id, pid, score, grade) = scored(&c.ctx, 2, 870);
        let (_, other, _, _) = scored(&c.ctx, 3, 600);
        assert!(matches!(
            issue(&c.ctx, pid, "bank-1", Ask::Grade, now()),
            Err(CertError::NoSigningKey)
        ));
        assert!(published_keys(&c.ctx, now()).unwrap().keys.is_empty());
        let r = rotate(&c.ctx, now()).unwrap();
        let mode = std::fs::metadata(&r.file).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );

        let a = issue(&c.ctx, pid, "bank-1", Ask::Grade, now()).unwrap();
        assert_eq!(a.claims.grade.as_deref(), Some(grade.as_str()));
        assert_eq!(a.claims.exp - a.claims.iat, VALIDITY_SECONDS);
        assert_eq!(a.claims.iss, "https://sx.example");
        let claims = alter::claims(&a.jws);
        assert!(!a.jws.contains(id.as_str()) && !claims.to_string().contains(id.as_str()));
        assert!(claims.get("score").is_none() && claims.get("threshold").is_none());
        let again = issue(&c.ctx, pid, "bank-1", Ask::Grade, now()).unwrap();
        let elsewhere = issue(&c.ctx, pid, "hotel-2", Ask::Grade, now()).unwrap();
        let someone = issue(&c.ctx, other, "bank-1", Ask::Grade, now()).unwrap();
        assert_eq!(a.claims.sub, again.claims.sub, "stable for one party");
        assert_ne!(a.claims.sub, elsewhere.claims.sub, "pairwise");
        assert_ne!(a.claims.sub, someone.claims.sub);

        for (n, met) in [(score, true), (score + 1, false), (0, true)] {
            let t = issue(&c.ctx, pid, "bank-1", Ask::Threshold(n), now()).unwrap();
            let claims = alter::claims(&t.jws);
            assert_eq!(claims["threshold"], n);
            assert_eq!(claims["met"], met);
            assert!(claims.get("grade").is_none(), "{claims}");
        }
        assert!(matches!(
            issue(&c.ctx, pid, "bank-1", Ask::Threshold(1001), now()),
            Err(CertError::Invalid(_))
        ));
        assert!(matches!(
            issue(&c.ctx, 9_999_999, "bank-1", Ask::Grade, now()),
            Err(CertError::NoScore)
        ));
    }
}

#[test]
fn a_missing_or_different_signing_key_file_is_refused() {
    let db = TestDb::sqlite();
    let c = city(&db, "https://sx.example", "shaoxing");
    let (_, pid, _, _) = scored(&c.ctx, 4, 870);
    let r = rotate(&c.ctx, now()).unwrap();
    let good = std::fs::read_to_string(&r.file).unwrap();
    std::fs::remove_file(&r.file).unwrap();
    let write = |text: &str| {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&r.file)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    let missing = issue(&c.ctx, pid, "bank-1", Ask::Grade, now()).unwrap_err();
    assert!(matches!(missing, CertError::KeyFile(_)), "{missing}");
    assert!(!r.file.exists(), "a missing key is never replaced");
    write(&format!("{}\n", "11".repeat(32)));
    let other = issue(&c.ctx, pid, "bank-1", Ask::Grade, now()).unwrap_err();
    assert!(
        other.to_string().contains("does not hold the key recorded"),
        "{other}"
    );
    write(&good);
    assert!(issue(&c.ctx, pid, "bank-1", Ask::Grade, now()).is_ok());
    let no_dir = c.ctx.certificates().clone();
    let ctx = Context::new(Arc::from(db.open()))
        .unwrap()
        .with_certificates(CertConfig {
            keys_dir: None,
            ..no_dir
        });
    assert!(matches!(
        issue(&ctx, pid, "bank-1", Ask::Grade, now()),
        Err(CertError::NoKeysDir)
    ));
}

fn jwks_text(c: &City) -> String {
    serde_json::to_string(&published_keys(&c.ctx, now()).unwrap()).unwrap()
}

#[test]
fn two_cities_verify_each_others_certificates_with_their_grade_maps() {
    for (db_a, db_b) in backends().into_iter().zip(backends()) {
        let a = city(&db_a, "https://sx.example", "shaoxing");
        let b = city(&db_b, "https://nb.example", "ningbo");
        rotate(&a.ctx, now()).unwrap();
        rotate(&b.ctx, now()).unwrap();
        let (_, pa, _, grade_a) = scored(&a.ctx, 5, 870);
        let (_, pb, _, grade_b) = scored(&b.ctx, 6, 600);
        let from_a = issue(&a.ctx, pa, "bank-1", Ask::Grade, now()).unwrap().jws;
        let from_b = issue(&b.ctx, pb, "bank-1", Ask::Grade, now()).unwrap().jws;
        assert_eq!(
            verify(&a.ctx, &from_b, now()).unwrap().reason,
            Some(Refusal::UnknownIssuer)
        );

        // A maps B's grades one step down; B maps A's as they are, except AAA.
        let to_a = "{\"issuer\":\"https://nb.example\",\"grades\":{\"AAA\":\"AA\",\"AA\":\"A\",\"A\":\"B\",\"B\":\"C\",\"C\":\"C\"}}";
        let to_b = "issuer = \"https://sx.example\"\n[grades]\nAAA = \"AA\"\nAA = \"AA\"\nA = \"A\"\nB = \"B\"\nC = \"C\"\n";
        let bad = "issuer = \"https://sx.example\"\n[grades]\nAAA = \"S\"\n";
        let err = add_partner(&b.ctx, "shaoxing", "绍兴", &jwks_text(&a), bad, now()).unwrap_err();
        assert!(err.to_string().contains("`S`"), "{err}");
        let own = add_partner(&a.ctx, "self", "自己", &jwks_text(&a), to_b, now()).unwrap_err();
        assert!(own.to_string().contains("own URL"), "{own}");
        let (_, created) =
            add_partner(&a.ctx, "ningbo", "宁波", &jwks_text(&b), to_a, now()).unwrap();
        assert!(created);
        add_partner(&b.ctx, "shaoxing", "绍兴", &jwks_text(&a), to_b, now()).unwrap();

        let at_a = verify(&a.ctx, &from_b, now()).unwrap();
        assert!(at_a.valid, "{at_a:?}");
        assert_eq!(at_a.city.as_deref(), Some("ningbo"));
        assert_eq!(at_a.grade.as_deref(), Some(grade_b.as_str()));
        let expect_a = match grade_b.as_str() {
            "AAA" => "AA",
            "AA" => "A",
            "A" => "B",
            _ => "C",
        };
        assert_eq!(at_a.local_grade.as_deref(), Some(expect_a));
        let at_b = verify(&b.ctx, &from_a, now()).unwrap();
        assert!(at_b.valid, "{at_b:?}");
        assert_eq!(at_b.city.as_deref(), Some("shaoxing"));
        let expect_b = if grade_a == "AAA" {
            "AA"
        } else {
            grade_a.as_str()
        };
        assert_eq!(at_b.local_grade.as_deref(), Some(expect_b));
        // An altered partner certificate is refused like ours.
        let altered = verify(&a.ctx, &alter::payload_byte_changed(&from_b), now()).unwrap();
        assert_eq!(altered.reason, Some(Refusal::BadSignature));
        // The partner list shows the registration.
        let listed = certificates::list_partners(&a.ctx).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].issuer, "https://nb.example");
        assert_eq!(listed[0].grades.len(), 5);
    }
}
