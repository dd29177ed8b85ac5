//! Parties and residents' authorisations on every backend: keys, the grant
//! rules (one live threshold per party, the rate limit), redeeming once and
//! in time, every refusal, the use counter under concurrency, and each use
//! in the resident's access log with the party's name and purpose.

use std::sync::Arc;

use chengxin_domain::authorisation::{
    GrantError, Refusal, Scope, CODE_TTL_SECS, MAX_GRANTS_PER_WINDOW,
};
use chengxin_domain::IdNumber;
use chengxin_jobs::authorisations::{self, civil_day, AuthError, GrantRequest};
use chengxin_jobs::parties::{self, Party};
use chengxin_jobs::resident::Resident;
use chengxin_jobs::uow::Change;
use chengxin_jobs::{own, store_chunk, Context};
use chengxin_store::Cause;
use chengxin_testkit::{backends, id_number, record};
use jiff::{Timestamp, ToSpan};
use serde_json::json;

fn ctx(db: &chengxin_testkit::TestDb) -> Context {
    Context::new(Arc::from(db.open())).unwrap()
}

/// A resident of Yuecheng (score 600 under the default model).
fn resident_with_score(ctx: &Context, id: IdNumber) {
    let rows = vec![record(
        "SX-PSB",
        &format!("{}-b03", id.as_str()),
        id,
        "测试甲",
        "B03",
        json!({"region_code": "330602", "registered_on": "2000-01-01", "active": true}),
    )];
    store_chunk(ctx, &rows, &Change::bulk(Cause::Import, "test")).unwrap();
}

fn me(id: &IdNumber) -> Resident<'_> {
    Resident {
        id_number: id,
        name: None,
        request_id: None,
    }
}

fn req(party: &str, scope: Scope, now: Timestamp, max_uses: Option<i64>) -> GrantRequest {
    GrantRequest {
        party: party.into(),
        purpose: "loan_discount".into(),
        scope,
        valid_until: civil_day(now).checked_add(30.days()).unwrap(),
        max_uses,
    }
}

fn bank(ctx: &Context, code: &str) -> (Party, String) {
    parties::add_party(
        ctx,
        code,
        "绍兴测试银行",
        "bank",
        &["loan_discount".into()],
        "operator:test",
    )
    .unwrap()
}

fn refused<T: std::fmt::Debug>(r: Result<T, AuthError>) -> Refusal {
    match r {
        Err(AuthError::Refused(x)) => x,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn parties_are_added_with_declared_purposes_and_keys_that_rotate() {
    for db in backends() {
        let ctx = ctx(&db);
        let (p, key) = bank(&ctx, "SX-BANK");
        assert_eq!(p.purposes, ["loan_discount"]);
        assert!(key.starts_with("cxp_"));
        assert_eq!(
            parties::authenticate(&ctx, &key).unwrap().map(|p| p.code),
            Some("SX-BANK".into())
        );
        // A government party: incentive purposes only (第十九条).
        let e = parties::add_party(
            &ctx,
            "SX-GOV",
            "绍兴市某局",
            "government",
            &["loan_discount".into()],
            "o",
        )
        .unwrap_err();
        assert!(e.to_string().contains("第十九条"), "{e}");
        parties::add_party(
            &ctx,
            "SX-GOV",
            "绍兴市某局",
            "government",
            &["government_incentive".into()],
            "o",
        )
        .unwrap();
        assert!(
            parties::add_party(&ctx, "SX-BANK", "x", "bank", &["loan_discount".into()], "o")
                .is_err()
        );
        assert!(parties::add_party(&ctx, "X", "x", "bank", &["ranking".into()], "o").is_err());

        let new = parties::rotate_key(&ctx, "SX-BANK", "o").unwrap();
        assert!(parties::authenticate(&ctx, &key).unwrap().is_none());
        assert!(parties::authenticate(&ctx, &new).unwrap().is_some());
        // A unit key is not a party key.
        let (_, unit_key) =
            chengxin_jobs::units::add_unit(&ctx, "SX-TAX", "税务", &["P01".into()], "o").unwrap();
        assert!(parties::authenticate(&ctx, &unit_key).unwrap().is_none());
        parties::disable_party(&ctx, "SX-BANK", "o").unwrap();
        assert!(parties::authenticate(&ctx, &new).unwrap().is_none());
        let listed: Vec<_> = parties::list_parties(&ctx)
            .unwrap()
            .into_iter()
            .map(|p| (p.code, p.disabled))
            .collect();
        assert_eq!(
            listed,
            [("SX-BANK".into(), true), ("SX-GOV".into(), false)],
            "{}",
            db.backend()
        );
    }
}

#[test]
fn codes_redeem_once_in_time_and_only_by_their_party() {
    for db in backends() {
        let ctx = ctx(&db);
        let id = id_number("330602", "19900101", 1);
        resident_with_score(&ctx, id);
        let (a, _) = bank(&ctx, "SX-BANK");
        let (b, _) = bank(&ctx, "SX-OTHER");
        let t0 = Timestamp::now();
        let g = authorisations::grant(&ctx, me(&id), &req("SX-BANK", Scope::Grade, t0, None), t0)
            .unwrap();
        assert_eq!(g.code.len(), 8);
        // Another party's code is not found; so is a made-up one.
        assert_eq!(
            refused(authorisations::redeem(&ctx, &b, &g.code, None, t0)),
            Refusal::NotFound
        );
        assert_eq!(
            refused(authorisations::redeem(&ctx, &a, "ZZZZZZZZ", None, t0)),
            Refusal::NotFound
        );
        // Before redemption the party cannot use the id.
        assert_eq!(
            refused(authorisations::result(&ctx, &a, g.id, None, None, t0)),
            Refusal::NotFound
        );
        let r = authorisations::redeem(&ctx, &a, &g.code.to_lowercase(), None, t0).unwrap();
        assert_eq!((r.authorisation_id, r.scope.as_str()), (g.id, "grade"));
        assert_eq!(
            refused(authorisations::redeem(&ctx, &a, &g.code, None, t0)),
            Refusal::AlreadyRedeemed
        );
        // Another party never sees it.
        assert_eq!(
            refused(authorisations::result(&ctx, &b, g.id, None, None, t0)),
            Refusal::NotFound
        );

        // A code not redeemed within 10 minutes is expired.
        let g2 = authorisations::grant(&ctx, me(&id), &req("SX-BANK", Scope::Score, t0, None), t0)
            .unwrap();
        let late = t0 + (CODE_TTL_SECS + 1).seconds();
        assert_eq!(
            refused(authorisations::redeem(&ctx, &a, &g2.code, None, late)),
            Refusal::Expired
        );
    }
}

#[test]
fn every_refusal_of_a_use() {
    for db in backends() {
        let ctx = ctx(&db);
        let id = id_number("330602", "19900101", 2);
        resident_with_score(&ctx, id);
        let (a, _) = bank(&ctx, "SX-BANK");
        let t0 = Timestamp::now();
        let g = authorisations::grant(
            &ctx,
            me(&id),
            &req("SX-BANK", Scope::Grade, t0, Some(2)),
            t0,
        )
        .unwrap();
        authorisations::redeem(&ctx, &a, &g.code, None, t0).unwrap();
        let answer = authorisations::result(&ctx, &a, g.id, None, None, t0).unwrap();
        assert_eq!(answer.grade.as_deref(), Some("A"), "{}", db.backend());
        assert_eq!(answer.score, None, "a grade grant never gives the score");
        assert_eq!(
            refused(authorisations::result(
                &ctx,
                &a,
                g.id,
                Some(Scope::Score),
                None,
                t0
            )),
            Refusal::ScopeExceeded
        );
        authorisations::result(&ctx, &a, g.id, Some(Scope::Grade), None, t0).unwrap();
        assert_eq!(
            refused(authorisations::result(&ctx, &a, g.id, None, None, t0)),
            Refusal::Exhausted
        );
        // Past its last day: expired.
        let g2 = authorisations::grant(&ctx, me(&id), &req("SX-BANK", Scope::Grade, t0, None), t0)
            .unwrap();
        authorisations::redeem(&ctx, &a, &g2.code, None, t0).unwrap();
        let after = t0 + (24 * 32).hours();
        assert_eq!(
            refused(authorisations::result(&ctx, &a, g2.id, None, None, after)),
            Refusal::Expired
        );
        // Revoked: from the very next request.
        authorisations::result(&ctx, &a, g2.id, None, None, t0).unwrap();
        authorisations::revoke(&ctx, me(&id), g2.id, t0).unwrap();
        assert_eq!(
            refused(authorisations::result(&ctx, &a, g2.id, None, None, t0)),
            Refusal::Revoked
        );
        // Another resident cannot revoke it.
        let other = id_number("330602", "19900101", 3);
        resident_with_score(&ctx, other);
        assert_eq!(
            refused(authorisations::revoke(&ctx, me(&other), g.id, t0)),
            Refusal::NotFound
        );
        let list = authorisations::list(&ctx, me(&id), t0).unwrap();
        let states: Vec<_> = list.iter().map(|a| (a.status, a.uses)).collect();
        assert_eq!(states, [("exhausted", 2), ("revoked", 1)]);
        assert_eq!(list[0].party_name, "绍兴测试银行");
    }
}

#[test]
fn one_live_threshold_grant_per_party_and_a_rate_limit_both_visible() {
    for db in backends() {
        let ctx = ctx(&db);
        let id = id_number("330602", "19900101", 4);
        resident_with_score(&ctx, id);
        bank(&ctx, "SX-BANK");
        let t0 = Timestamp::now();
        let g = authorisations::grant(
            &ctx,
            me(&id),
            &req("SX-BANK", Scope::Threshold(600), t0, None),
            t0,
        )
        .unwrap();
        let second = authorisations::grant(
            &ctx,
            me(&id),
            &req("SX-BANK", Scope::Threshold(650), t0, None),
            t0,
        );
        assert!(
            matches!(second, Err(AuthError::Grant(GrantError::ThresholdHeld))),
            "{second:?}"
        );
        // Once revoked, another threshold may be granted.
        authorisations::revoke(&ctx, me(&id), g.id, t0).unwrap();
        authorisations::grant(
            &ctx,
            me(&id),
            &req("SX-BANK", Scope::Threshold(650), t0, None),
            t0,
        )
        .unwrap();
        for _ in 2..MAX_GRANTS_PER_WINDOW {
            authorisations::grant(&ctx, me(&id), &req("SX-BANK", Scope::Grade, t0, None), t0)
                .unwrap();
        }
        let over =
            authorisations::grant(&ctx, me(&id), &req("SX-BANK", Scope::Grade, t0, None), t0);
        assert!(
            matches!(over, Err(AuthError::Grant(GrantError::TooManyGrants))),
            "{over:?}"
        );
        let log = own::access_log(&ctx, &id, 100, None).unwrap();
        let refusals: Vec<_> = log
            .iter()
            .filter(|e| e.action == "authorisation.refused")
            .collect();
        assert_eq!(refusals.len(), 2, "{log:?}");
        assert!(refusals.iter().all(|e| e.purpose.contains("绍兴测试银行")));
    }
}

#[test]
fn the_use_counter_is_never_exceeded_under_concurrency() {
    for db in backends() {
        let ctx = Arc::new(ctx(&db));
        let id = id_number("330602", "19900101", 5);
        resident_with_score(&ctx, id);
        let (a, _) = bank(&ctx, "SX-BANK");
        let t0 = Timestamp::now();
        let g = authorisations::grant(
            &ctx,
            me(&id),
            &req("SX-BANK", Scope::Score, t0, Some(5)),
            t0,
        )
        .unwrap();
        authorisations::redeem(&ctx, &a, &g.code, None, t0).unwrap();
        let barrier = Arc::new(std::sync::Barrier::new(16));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (ctx, a, barrier) = (Arc::clone(&ctx), a.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    authorisations::result(&ctx, &a, g.id, None, None, Timestamp::now())
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let exhausted = results
            .iter()
            .filter(|r| matches!(r, Err(AuthError::Refused(Refusal::Exhausted))))
            .count();
        assert_eq!((ok, exhausted), (5, 11), "{}: {results:?}", db.backend());
        let list = authorisations::list(&ctx, me(&id), t0).unwrap();
        assert_eq!(list[0].uses, 5);
        // Each use is in the resident's access log with the party and purpose.
        let log = own::access_log(&ctx, &id, 100, None).unwrap();
        let uses: Vec<_> = log
            .iter()
            .filter(|e| e.action == "authorisation.used")
            .collect();
        assert_eq!(uses.len(), 5);
        for u in uses {
            assert_eq!(u.actor_kind, "party");
            assert_eq!(u.actor, "绍兴测试银行（SX-BANK）");
            assert!(u.purpose.contains("信用贷款利率优惠"), "{}", u.purpose);
            assert!(u.purpose.contains("loan rate discount"), "{}", u.purpose);
        }
    }
}
