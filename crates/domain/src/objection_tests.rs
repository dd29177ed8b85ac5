//! The objection state machine and deadline rules: every transition by
//! hand, invariants as properties, and deadlines at 2026 holiday boundaries.

use super::*;
use proptest::prelude::*;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn any_event() -> impl Strategy<Value = ObjectionEvent> {
    prop_oneof![
        Just(ObjectionEvent::Accept { routed: true }),
        Just(ObjectionEvent::Accept { routed: false }),
        Just(ObjectionEvent::UnitReply),
        Just(ObjectionEvent::Decide(Outcome::Corrected)),
        Just(ObjectionEvent::Decide(Outcome::Explained)),
    ]
}

fn any_date() -> impl Strategy<Value = Date> {
    (0i32..730).prop_map(|n| {
        d("2025-01-01")
            .checked_add(jiff::Span::new().days(n))
            .unwrap()
    })
}

#[test]
fn transitions() {
    use ObjectionEvent as E;
    use ObjectionStatus as S;
    assert_eq!(
        S::Submitted.apply(E::Accept { routed: true }),
        Ok(S::AwaitingUnit)
    );
    assert_eq!(
        S::Submitted.apply(E::Accept { routed: false }),
        Ok(S::Accepted)
    );
    assert_eq!(S::AwaitingUnit.apply(E::UnitReply), Ok(S::Accepted));
    assert_eq!(
        S::AwaitingUnit.apply(E::Decide(Outcome::Corrected)),
        Ok(S::Corrected)
    );
    assert_eq!(
        S::Accepted.apply(E::Decide(Outcome::Explained)),
        Ok(S::Explained)
    );
    assert!(S::Submitted.apply(E::Decide(Outcome::Corrected)).is_err());
    assert!(S::Submitted.apply(E::UnitReply).is_err());
    assert!(S::Accepted.apply(E::UnitReply).is_err());
    assert!(S::Accepted.apply(E::Accept { routed: true }).is_err());
    for s in S::ALL {
        assert_eq!(S::parse(s.as_str()), Some(s));
    }
}

#[test]
fn deadlines_around_2026_holidays() {
    let cal = Calendar::shipped();
    // Submitted on Wednesday 30 September, just before National Day (1–7
    // October; Saturday 10 October is worked): the 2 working days are
    // Thursday 8 and Friday 9 October.
    let a = accept_by(&cal, d("2026-09-30")).unwrap();
    assert_eq!((a.date, a.provisional), (d("2026-10-09"), false));
    // Accepted on 9 October: 10, 12–16, 19–22 October.
    let r = reply_by(&cal, d("2026-10-09")).unwrap();
    assert_eq!((r.date, r.provisional), (d("2026-10-22"), false));
    // Submitted on Thursday 24 September, before Mid-Autumn (25–27).
    assert_eq!(
        accept_by(&cal, d("2026-09-24")).unwrap().date,
        d("2026-09-29")
    );
    // Accepted at the end of December: the count runs into 2027, which has
    // no data, so the deadline is provisional.
    let late = reply_by(&cal, d("2026-12-28")).unwrap();
    assert!(late.provisional);
    assert!(!accept_by(&cal, d("2026-12-28")).unwrap().provisional);
}

#[test]
fn overdue_only_after_the_deadline_day() {
    let t = Timeline {
        status: ObjectionStatus::Submitted,
        routed: true,
        accept_by: d("2026-10-09"),
        accepted_on: None,
        reply_by: None,
        replied_on: None,
    };
    assert_eq!(overdue(&t, d("2026-10-09")), None);
    assert_eq!(overdue(&t, d("2026-10-10")), Some(Missed::Accept));
    let accepted = Timeline {
        status: ObjectionStatus::AwaitingUnit,
        accepted_on: Some(d("2026-10-12")),
        reply_by: Some(d("2026-10-26")),
        ..t
    };
    assert_eq!(overdue(&accepted, d("2026-10-26")), None);
    assert_eq!(overdue(&accepted, d("2026-10-27")), Some(Missed::Reply));
    // Accepted late: no longer overdue, but late.
    assert!(ever_late(&accepted, d("2026-10-12")));
    let replied = Timeline {
        status: ObjectionStatus::Accepted,
        replied_on: Some(d("2026-10-20")),
        ..accepted
    };
    assert_eq!(overdue(&replied, d("2027-01-01")), None);
    // A score objection (not routed) waits for the agency's decision.
    let score = Timeline {
        status: ObjectionStatus::Accepted,
        routed: false,
        replied_on: None,
        ..accepted
    };
    assert_eq!(overdue(&score, d("2026-10-27")), Some(Missed::Reply));
}

#[test]
fn texts() {
    assert_eq!(check_text("reason", "  记录有误 ").unwrap(), "记录有误");
    assert_eq!(check_text("reason", " ").unwrap_err().0, "missing_field");
    assert_eq!(check_text("reason", "a\0b").unwrap_err().0, "invalid_field");
    let long = "字".repeat(MAX_TEXT_CHARS + 1);
    assert_eq!(check_text("reason", &long).unwrap_err().0, "out_of_range");
    assert!(check_text("reason", &"字".repeat(MAX_TEXT_CHARS)).is_ok());
}

proptest! {
    #[test]
    fn decisions_are_final_and_need_acceptance(events in proptest::collection::vec(any_event(), 0..8)) {
        let mut s = ObjectionStatus::Submitted;
        let mut accepted = false;
        for e in events {
            let before = s;
            match s.apply(e) {
                Ok(next) => {
                    prop_assert!(before.is_open());
                    if let ObjectionEvent::Decide(_) = e {
                        prop_assert!(accepted);
                        prop_assert!(!next.is_open());
                    }
                    if let ObjectionEvent::Accept { .. } = e {
                        prop_assert_eq!(before, ObjectionStatus::Submitted);
                        accepted = true;
                    }
                    s = next;
                }
                Err(err) => prop_assert_eq!(err.from, before),
            }
        }
        // Once decided, nothing moves it.
        if !s.is_open() {
            for e in [ObjectionEvent::UnitReply, ObjectionEvent::Decide(Outcome::Explained)] {
                prop_assert!(s.apply(e).is_err());
            }
        }
    }

    #[test]
    fn deadlines_are_working_days_after_their_start(start in any_date()) {
        let cal = Calendar::shipped();
        let a = accept_by(&cal, start).unwrap();
        let r = reply_by(&cal, start).unwrap();
        prop_assert!(a.date > start && r.date > a.date);
        prop_assert!(cal.is_working_day(a.date) && cal.is_working_day(r.date));
        // At least the calendar days the count needs, never fewer.
        prop_assert!((a.date - start).get_days() >= ACCEPT_WITHIN as i32);
        prop_assert!((r.date - start).get_days() >= REPLY_WITHIN as i32);
    }

    #[test]
    fn overdue_means_past_a_pending_deadline(start in any_date(), days in 0i32..40, routed: bool) {
        let cal = Calendar::shipped();
        let by = accept_by(&cal, start).unwrap().date;
        let today = start.checked_add(jiff::Span::new().days(days)).unwrap();
        let t = Timeline {
            status: ObjectionStatus::Submitted,
            routed,
            accept_by: by,
            accepted_on: None,
            reply_by: None,
            replied_on: None,
        };
        prop_assert_eq!(overdue(&t, today).is_some(), today > by);
        for status in [ObjectionStatus::Corrected, ObjectionStatus::Explained] {
            prop_assert_eq!(overdue(&Timeline { status, ..t }, today), None);
        }
    }
}
