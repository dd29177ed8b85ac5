//! Agency staff on every backend: accounts, sign-in and sessions, the limit
//! on failed sign-ins, the role matrix as a signed-in member sees it, and
//! the audit entries each step writes.

use std::sync::Arc;

use chengxin_domain::audit::AuditEntry;
use chengxin_domain::staff::{Right, Role};
use chengxin_jobs::staff::{
    self, Attempt, SignInError, SignInLimiter, FAILURES_PER_ACCOUNT, FAILURES_PER_ADDRESS,
    FAILURE_WINDOW_SECONDS, SESSION_SECONDS,
};
use chengxin_jobs::Context;
use chengxin_testkit::{backends, TestDb};

const PW: &str = "correct horse battery";
const T0: i64 = 1_780_000_000;

fn ctx(db: &TestDb) -> Context {
    Context::new(Arc::from(db.open())).unwrap()
}

fn attempt<'a>(name: &'a str, password: &'a str, address: &'a str, now: i64) -> Attempt<'a> {
    Attempt {
        name,
        password,
        address,
        request_id: None,
        now,
    }
}

fn entries(ctx: &Context) -> Vec<AuditEntry> {
    ctx.store.seal_audit().unwrap();
    ctx.store
        .snapshot()
        .unwrap()
        .audit_entries(0, 1_000_000)
        .unwrap()
}

#[test]
fn accounts_are_added_listed_and_disabled_with_audit() {
    for db in backends() {
        let ctx = ctx(&db);
        let m = staff::add_staff(&ctx, "wang", Role::Reviewer, PW, "operator:root", T0).unwrap();
        assert_eq!(
            (m.name.as_str(), m.role, m.disabled),
            ("wang", Role::Reviewer, false)
        );
        staff::add_staff(&ctx, "li", Role::Auditor, PW, "operator:root", T0).unwrap();
        // A taken name, a bad name, a short password, are refused.
        assert!(staff::add_staff(&ctx, "wang", Role::Admin, PW, "operator:root", T0).is_err());
        assert!(staff::add_staff(&ctx, "Wang Wei", Role::Admin, PW, "o", T0).is_err());
        assert!(staff::add_staff(&ctx, "zhao", Role::Admin, "short", "o", T0).is_err());
        let list = staff::list_staff(&ctx).unwrap();
        let names: Vec<_> = list.iter().map(|m| (m.name.as_str(), m.role)).collect();
        assert_eq!(names, [("li", Role::Auditor), ("wang", Role::Reviewer)]);

        staff::disable_staff(&ctx, "wang", "operator:root").unwrap();
        assert!(staff::disable_staff(&ctx, "nobody", "operator:root").is_err());
        let list = staff::list_staff(&ctx).unwrap();
        assert!(list.iter().find(|m| m.name == "wang").unwrap().disabled);

        let log = entries(&ctx);
        let actions: Vec<_> = log
            .iter()
            .filter(|e| e.event.actor == "operator:root")
            .map(|e| (e.event.action.as_str(), e.event.subject.as_deref()))
            .collect();
        assert_eq!(
            actions,
            [
                ("staff.created", Some("staff:wang")),
                ("staff.created", Some("staff:li")),
                ("staff.disabled", Some("staff:wang")),
            ]
        );
        // The password is nowhere in the log.
        assert!(!serde_json::to_string(&log).unwrap().contains(PW));
    }
}

#[test]
fn passwords_are_argon2id_and_verify() {
    let h = staff::hash_password(PW).unwrap();
    assert!(h.starts_with("$argon2id$"), "{h}");
    assert!(staff::verify_password(PW, &h));
    assert!(!staff::verify_password("correct horse batterY", &h));
    assert!(!staff::verify_password(PW, "not a hash"));
    // Salted: the same password hashes differently.
    assert_ne!(h, staff::hash_password(PW).unwrap());
}

#[test]
fn sign_in_sessions_expire_and_are_revoked() {
    for db in backends() {
        let ctx = ctx(&db);
        let limiter = SignInLimiter::default();
        staff::add_staff(&ctx, "wang", Role::Reviewer, PW, "operator:root", T0).unwrap();
        let s = staff::sign_in(&ctx, &limiter, attempt("wang", PW, "10.0.0.1", T0)).unwrap();
        assert_eq!(s.expires_at, T0 + SESSION_SECONDS);
        assert!(s.token.starts_with("cxs_"));
        let me = staff::authenticate(&ctx, &s.token, T0 + 1)
            .unwrap()
            .unwrap();
        assert_eq!((me.name.as_str(), me.role), ("wang", Role::Reviewer));
        assert!(me.may(Right::DecideObjections) && !me.may(Right::ManageStaff));
        // Expired at `expires_at`.
        assert!(staff::authenticate(&ctx, &s.token, s.expires_at - 1)
            .unwrap()
            .is_some());
        assert!(staff::authenticate(&ctx, &s.token, s.expires_at)
            .unwrap()
            .is_none());
        // Forged and foreign tokens.
        for t in ["cxs_forged", "cxu_abc", "eyJhbGciOiJFZERTQSJ9.e30.sig", ""] {
            assert!(staff::authenticate(&ctx, t, T0).unwrap().is_none(), "{t}");
        }
        // Revoked by sign-out; a second sign-out finds nothing.
        assert!(staff::sign_out(&ctx, &s.token, None).unwrap());
        assert!(staff::authenticate(&ctx, &s.token, T0 + 1)
            .unwrap()
            .is_none());
        assert!(!staff::sign_out(&ctx, &s.token, None).unwrap());
        // Disabling revokes every open session.
        let s2 = staff::sign_in(&ctx, &limiter, attempt("wang", PW, "10.0.0.1", T0)).unwrap();
        staff::disable_staff(&ctx, "wang", "operator:root").unwrap();
        assert!(staff::authenticate(&ctx, &s2.token, T0 + 1)
            .unwrap()
            .is_none());
        // A disabled member cannot sign in, with the same refusal as a wrong password.
        assert!(matches!(
            staff::sign_in(&ctx, &limiter, attempt("wang", PW, "10.0.0.1", T0)),
            Err(SignInError::Refused)
        ));

        let log = entries(&ctx);
        let mine: Vec<_> = log
            .iter()
            .filter(|e| e.event.actor == "staff:wang")
            .map(|e| (e.event.action.as_str(), e.event.detail["reason"].as_str()))
            .collect();
        assert_eq!(
            mine,
            [
                ("staff.signed_in", None),
                ("staff.signed_out", None),
                ("staff.signed_in", None),
                ("staff.sign_in_failed", Some("disabled")),
            ]
        );
    }
}

#[test]
fn wrong_password_and_unknown_name_are_the_same_refusal() {
    for db in backends() {
        let ctx = ctx(&db);
        let limiter = SignInLimiter::default();
        staff::add_staff(&ctx, "wang", Role::Admin, PW, "operator:root", T0).unwrap();
        for (name, pw) in [
            ("wang", "wrong password!"),
            ("nobody", PW),
            ("Bad Name", PW),
        ] {
            let r = staff::sign_in(&ctx, &limiter, attempt(name, pw, "10.0.0.2", T0));
            assert!(matches!(r, Err(SignInError::Refused)), "{name}");
        }
        let log = entries(&ctx);
        let failed: Vec<_> = log
            .iter()
            .filter(|e| e.event.action == "staff.sign_in_failed")
            .map(|e| {
                (
                    e.event.actor.as_str(),
                    e.event.detail["reason"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            failed,
            [
                ("staff:wang", "wrong_password"),
                ("staff:nobody", "unknown_name"),
                ("staff:?", "unknown_name"),
            ]
        );
    }
}

#[test]
fn failed_sign_ins_are_limited_per_account_and_reset() {
    for db in backends() {
        let ctx = ctx(&db);
        let limiter = SignInLimiter::default();
        staff::add_staff(&ctx, "wang", Role::Reviewer, PW, "operator:root", T0).unwrap();
        for i in 0..FAILURES_PER_ACCOUNT {
            // From different addresses: the account's own count applies.
            let addr = format!("10.1.0.{i}");
            let r = staff::sign_in(&ctx, &limiter, attempt("wang", "bad password!", &addr, T0));
            assert!(matches!(r, Err(SignInError::Refused)));
        }
        // Now even the right password is refused until the window has passed.
        let r = staff::sign_in(&ctx, &limiter, attempt("wang", PW, "10.9.9.9", T0 + 60));
        let Err(SignInError::Limited { retry_after }) = r else {
            panic!("not limited: {r:?}");
        };
        assert_eq!(retry_after, (FAILURE_WINDOW_SECONDS - 60) as u64);
        let later = T0 + FAILURE_WINDOW_SECONDS;
        staff::sign_in(&ctx, &limiter, attempt("wang", PW, "10.9.9.9", later)).unwrap();
        let log = entries(&ctx);
        assert!(log
            .iter()
            .any(|e| e.event.action == "staff.sign_in_limited" && e.event.actor == "staff:wang"));
    }
}

#[test]
fn failed_sign_ins_are_limited_per_address() {
    let db = TestDb::sqlite();
    let ctx = ctx(&db);
    let limiter = SignInLimiter::default();
    staff::add_staff(&ctx, "wang", Role::Reviewer, PW, "operator:root", T0).unwrap();
    // Many names from one address, each under the per-account limit.
    for i in 0..FAILURES_PER_ADDRESS {
        let name = format!("guess{i}");
        let r = staff::sign_in(&ctx, &limiter, attempt(&name, PW, "10.6.6.6", T0));
        assert!(matches!(r, Err(SignInError::Refused)));
    }
    let r = staff::sign_in(&ctx, &limiter, attempt("wang", PW, "10.6.6.6", T0 + 1));
    assert!(matches!(r, Err(SignInError::Limited { .. })), "{r:?}");
    // Another address is not affected; the same one is after the window.
    staff::sign_in(&ctx, &limiter, attempt("wang", PW, "10.7.7.7", T0 + 1)).unwrap();
    let later = T0 + FAILURE_WINDOW_SECONDS;
    staff::sign_in(&ctx, &limiter, attempt("wang", PW, "10.6.6.6", later)).unwrap();
}

#[test]
fn every_role_gets_exactly_its_rights_once_signed_in() {
    for db in backends() {
        let ctx = ctx(&db);
        let limiter = SignInLimiter::default();
        for role in Role::ALL {
            let name = role.as_str();
            staff::add_staff(&ctx, name, role, PW, "operator:root", T0).unwrap();
            let s = staff::sign_in(&ctx, &limiter, attempt(name, PW, "10.0.0.3", T0)).unwrap();
            let me = staff::authenticate(&ctx, &s.token, T0).unwrap().unwrap();
            for right in Right::ALL {
                let want = match role {
                    Role::Admin => !matches!(
                        right,
                        Right::DecideSelfReports
                            | Right::DecideObjections
                            | Right::DecideRepairs
                            | Right::ReadAuditLog
                    ),
                    Role::Reviewer => matches!(
                        right,
                        Right::DecideSelfReports
                            | Right::DecideObjections
                            | Right::DecideRepairs
                            | Right::ViewStatistics
                    ),
                    Role::Auditor => matches!(right, Right::ReadAuditLog | Right::ViewStatistics),
                };
                assert_eq!(me.may(right), want, "{role} × {right}");
            }
        }
    }
}

/// A resident's portal session signed out stays refused until its token
/// expires; the list forgets expired tokens at the next sign-out.
#[test]
fn signed_out_portal_sessions_are_listed_until_their_token_expires() {
    use chengxin_jobs::portal_sessions::{sign_out, signed_out};
    use chengxin_jobs::resident::Resident;
    for db in backends() {
        let ctx = ctx(&db);
        let id: chengxin_domain::IdNumber = "11010519491231002X".parse().unwrap();
        let resident = Resident {
            id_number: &id,
            name: None,
            request_id: Some("req-1"),
        };
        assert!(!signed_out(&ctx, "token-a").unwrap());
        sign_out(&ctx, resident, "token-a", T0 + 3600, T0).unwrap();
        assert!(signed_out(&ctx, "token-a").unwrap(), "{}", db.backend());
        assert!(!signed_out(&ctx, "token-b").unwrap(), "only that session");
        // Signing out twice is harmless.
        sign_out(&ctx, resident, "token-a", T0 + 3600, T0 + 1).unwrap();
        // After token A expired, the next sign-out forgets it.
        sign_out(&ctx, resident, "token-b", T0 + 7200, T0 + 3601).unwrap();
        assert!(!signed_out(&ctx, "token-a").unwrap());
        assert!(signed_out(&ctx, "token-b").unwrap());
        let outs: Vec<_> = entries(&ctx)
            .into_iter()
            .filter(|e| e.event.action == "resident.signed_out")
            .collect();
        assert_eq!(outs.len(), 3, "{}", db.backend());
        assert_eq!(outs[0].event.actor, resident.actor(&ctx));
        assert_eq!(outs[0].event.request_id.as_deref(), Some("req-1"));
    }
}
