//! Tests of the authorisation rules.

use super::*;
use proptest::prelude::*;

const TODAY: Date = Date::constant(2026, 11, 30);
const NOW: i64 = 1_800_000_000;

fn grant(scope: Scope) -> Grant {
    Grant {
        scope,
        valid_until: Date::constant(2026, 12, 31),
        max_uses: Some(3),
        uses: 0,
        created_at: NOW - 60,
        redeemed_at: Some(NOW - 30),
        revoked_at: None,
    }
}

#[test]
fn scopes_parse_exactly() {
    assert_eq!(Scope::parse("score"), Ok(Scope::Score));
    assert_eq!(Scope::parse("grade"), Ok(Scope::Grade));
    assert_eq!(Scope::parse("threshold:600"), Ok(Scope::Threshold(600)));
    assert_eq!(Scope::parse("threshold:0"), Ok(Scope::Threshold(0)));
    assert_eq!(Scope::parse("threshold:1000"), Ok(Scope::Threshold(1000)));
    for bad in [
        "Score",
        "threshold:",
        "threshold:1001",
        "threshold:-1",
        "threshold:0600",
        "threshold:+6",
        "threshold: 600",
        "threshold:6e2",
        "",
        "all",
    ] {
        assert!(Scope::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn each_refusal_in_its_order() {
    let g = grant(Scope::Grade);
    assert_eq!(g.check_use(Scope::Grade, NOW, TODAY), Ok(()));
    assert_eq!(
        g.check_use(Scope::Score, NOW, TODAY),
        Err(Refusal::ScopeExceeded)
    );
    let spent = Grant { uses: 3, ..g };
    assert_eq!(
        spent.check_use(Scope::Grade, NOW, TODAY),
        Err(Refusal::Exhausted)
    );
    let late = Date::constant(2027, 1, 1);
    assert_eq!(
        spent.check_use(Scope::Grade, NOW, late),
        Err(Refusal::Expired)
    );
    let revoked = Grant {
        revoked_at: Some(NOW),
        ..spent
    };
    assert_eq!(
        revoked.check_use(Scope::Grade, NOW, late),
        Err(Refusal::Revoked)
    );
    // The last day is still valid.
    assert_eq!(g.check_use(Scope::Grade, NOW, g.valid_until), Ok(()));
    // Unredeemed: the party cannot know it.
    let pending = Grant {
        redeemed_at: None,
        ..g
    };
    assert_eq!(
        pending.check_use(Scope::Grade, NOW, TODAY),
        Err(Refusal::NotFound)
    );
}

#[test]
fn codes_redeem_once_and_in_time() {
    let g = Grant {
        redeemed_at: None,
        ..grant(Scope::Score)
    };
    assert_eq!(g.check_redeem(NOW, TODAY), Ok(()));
    assert_eq!(g.status(NOW, TODAY), Status::Pending);
    let stale = NOW - 60 + CODE_TTL_SECS + 1;
    assert_eq!(g.check_redeem(stale, TODAY), Err(Refusal::Expired));
    assert_eq!(g.status(stale, TODAY), Status::Expired);
    let done = Grant {
        redeemed_at: Some(NOW),
        ..g
    };
    assert_eq!(done.check_redeem(NOW, TODAY), Err(Refusal::AlreadyRedeemed));
    // A redeemed grant does not expire with its code.
    assert_eq!(done.status(stale, TODAY), Status::Active);
}

#[test]
fn one_live_threshold_per_party_and_a_rate_limit() {
    let held = grant(Scope::Threshold(600));
    let until = Date::constant(2027, 1, 31);
    assert_eq!(
        check_grant(Scope::Threshold(650), until, None, &[held], NOW, TODAY),
        Err(GrantError::ThresholdHeld)
    );
    assert_eq!(
        check_grant(Scope::Grade, until, None, &[held], NOW, TODAY),
        Ok(())
    );
    let revoked = Grant {
        revoked_at: Some(NOW),
        ..held
    };
    assert_eq!(
        check_grant(Scope::Threshold(650), until, None, &[revoked], NOW, TODAY),
        Ok(())
    );
    let many = vec![revoked; MAX_GRANTS_PER_WINDOW as usize];
    assert_eq!(
        check_grant(Scope::Grade, until, None, &many, NOW, TODAY),
        Err(GrantError::TooManyGrants)
    );
    assert_eq!(
        check_grant(
            Scope::Grade,
            until,
            None,
            &many,
            NOW + GRANT_WINDOW_SECS,
            TODAY
        ),
        Ok(())
    );
    assert_eq!(
        check_grant(
            Scope::Grade,
            TODAY.yesterday().unwrap(),
            None,
            &[],
            NOW,
            TODAY
        ),
        Err(GrantError::ValidUntilPast(TODAY.yesterday().unwrap()))
    );
    assert!(matches!(
        check_grant(
            Scope::Grade,
            Date::constant(2028, 1, 1),
            None,
            &[],
            NOW,
            TODAY
        ),
        Err(GrantError::ValidUntilTooFar(_))
    ));
    assert_eq!(
        check_grant(Scope::Grade, until, Some(0), &[], NOW, TODAY),
        Err(GrantError::MaxUses(0))
    );
}

#[test]
fn codes_are_normalised() {
    assert_eq!(normalise_code("abcd-efgh"), Some("ABCDEFGH".into()));
    assert_eq!(normalise_code("ABCDEFG0"), None, "0 is not in the alphabet");
    assert_eq!(normalise_code("ABCDEFG"), None);
    assert_eq!(code_from_random(&[255; 40]), None);
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::Score),
        Just(Scope::Grade),
        (0..=MAX_SCORE).prop_map(Scope::Threshold),
    ]
}

proptest! {
    #[test]
    fn scopes_round_trip(s in scope()) {
        prop_assert_eq!(Scope::parse(&s.to_string()), Ok(s));
        prop_assert!(s.covers(s));
        prop_assert!(Scope::Score.covers(s));
    }

    #[test]
    fn a_narrow_scope_never_covers_a_wider_one(a in scope(), b in scope()) {
        if a.covers(b) && b.covers(a) {
            prop_assert_eq!(a, b);
        }
        if let Scope::Threshold(_) = a {
            prop_assert!(!a.covers(Scope::Score) && !a.covers(Scope::Grade));
        }
        prop_assert!(!Scope::Grade.covers(Scope::Threshold(0)));
    }

    #[test]
    fn uses_never_pass_the_maximum(max in 1i64..20, tries in 0usize..40) {
        let mut g = Grant { max_uses: Some(max), ..grant(Scope::Score) };
        let mut ok = 0;
        for _ in 0..tries {
            if g.check_use(Scope::Grade, NOW, TODAY).is_ok() {
                g.uses += 1;
                ok += 1;
            }
        }
        prop_assert_eq!(ok as i64, (tries as i64).min(max));
        prop_assert!(g.uses <= max);
    }

    #[test]
    fn revoked_is_always_refused(s in scope(), uses in 0i64..5, days in -400i64..400, at in 0i64..100_000) {
        let g = Grant {
            scope: s,
            uses,
            revoked_at: Some(NOW),
            ..grant(Scope::Score)
        };
        let today = TODAY.checked_add(days.days()).unwrap();
        prop_assert_eq!(g.check_use(s, NOW + at, today), Err(Refusal::Revoked));
        prop_assert_eq!(g.status(NOW + at, today), Status::Revoked);
        prop_assert!(!g.live(NOW + at, today));
    }

    #[test]
    fn random_codes_are_well_formed(bytes in proptest::collection::vec(any::<u8>(), 8..64)) {
        if let Some(c) = code_from_random(&bytes) {
            prop_assert_eq!(normalise_code(&c), Some(c.clone()));
            prop_assert_eq!(normalise_code(&c.to_lowercase()), Some(c));
        }
    }

    #[test]
    fn threshold_meets_is_monotone(score in proptest::option::of(0..=MAX_SCORE), n in 0..=MAX_SCORE) {
        prop_assert_eq!(meets(score, n), score.is_some_and(|s| s >= n));
        if meets(score, n) && n > 0 {
            prop_assert!(meets(score, n - 1));
        }
    }
}
