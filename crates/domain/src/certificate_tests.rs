use super::*;
use proptest::prelude::*;

const OURS: [&str; 5] = ["AAA", "AA", "A", "B", "C"];

fn grade_claims(iat: i64) -> Claims {
    Claims::new(
        "https://a.example",
        "sub",
        iat,
        &Answer::Grade("AA".into()),
        "2026.1",
    )
}

proptest! {
    /// Valid claims are accepted exactly while iat − skew ≤ now < exp.
    #[test]
    fn claims_hold_exactly_within_their_validity(iat in 0i64..4_000_000_000, off in -200_000i64..3_000_000) {
        let c = grade_claims(iat);
        let now = iat + off;
        let got = check_claims(&c, now);
        if now < iat - SKEW_SECONDS {
            prop_assert_eq!(got, Err(Refusal::NotYetValid));
        } else if now >= iat + VALIDITY_SECONDS {
            prop_assert_eq!(got, Err(Refusal::Expired));
        } else {
            prop_assert_eq!(got, Ok(Answer::Grade("AA".into())));
        }
    }

    /// A threshold certificate states its one threshold and whether it is met.
    #[test]
    fn threshold_answers_round_trip(t in 0i32..=1000, met: bool, iat in 0i64..1_000_000) {
        let a = Answer::Threshold { threshold: t, met };
        let c = Claims::new("https://a.example", "s", iat, &a, "2026.1");
        prop_assert!(c.grade.is_none());
        let json = serde_json::to_string(&c).unwrap();
        let back: Claims = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(check_claims(&back, iat), Ok(a));
    }

    /// A key is published as long as any certificate it signed (at or
    /// before its retirement) is unexpired, and once dropped stays dropped.
    #[test]
    fn retired_keys_stay_published_until_their_certificates_expire(
        retired in 0i64..2_000_000_000, signed_before in 0i64..10_000_000, age in 0i64..5_000_000,
    ) {
        let signed = retired - signed_before;
        let now = retired + age;
        let c = grade_claims(signed);
        if check_claims(&c, now).is_ok() {
            prop_assert!(still_published(Some(retired), now));
        }
        if !still_published(Some(retired), now) {
            prop_assert!(!still_published(Some(retired), now + 1));
        }
        prop_assert!(still_published(None, now));
    }

    /// Any map onto our grades is accepted and translates as written; one
    /// grade of ours that does not exist is refused and named.
    #[test]
    fn grade_maps_onto_our_grades(pairs in proptest::collection::btree_map("[A-E]{1,3}[+-]?", 0usize..5, 1..6), bad in "[X-Z]{2}") {
        let grades: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.clone(), OURS[*v].to_owned())).collect();
        let map = GradeMap { issuer: "https://b.example".into(), grades: grades.clone() };
        let json = serde_json::to_string(&map).unwrap();
        let parsed = GradeMap::parse(&json, &OURS).unwrap();
        for (k, v) in &grades {
            prop_assert_eq!(parsed.translate(k), Some(v.as_str()));
        }
        let mut wrong = grades;
        let first = wrong.keys().next().unwrap().clone();
        wrong.insert(first.clone(), bad.clone());
        let err = GradeMap { issuer: map.issuer, grades: wrong }.check(&OURS).unwrap_err();
        prop_assert_eq!(err, GradeMapError::UnknownLocal { theirs: first, ours: bad });
    }
}

#[test]
fn claims_that_state_nothing_or_two_things_are_invalid() {
    let mut c = grade_claims(100);
    c.threshold = Some(600);
    assert_eq!(check_claims(&c, 100), Err(Refusal::ClaimsInvalid));
    c.grade = None;
    assert_eq!(check_claims(&c, 100), Err(Refusal::ClaimsInvalid), "no met");
    c.met = Some(true);
    assert!(check_claims(&c, 100).is_ok());
    c.threshold = Some(1001);
    assert_eq!(check_claims(&c, 100), Err(Refusal::ClaimsInvalid));
    let mut c = grade_claims(100);
    c.exp = c.iat;
    assert_eq!(check_claims(&c, 100), Err(Refusal::ClaimsInvalid));
    let mut c = grade_claims(100);
    c.sub = " ".into();
    assert_eq!(check_claims(&c, 100), Err(Refusal::ClaimsInvalid));
}

#[test]
fn grade_map_files_in_toml_and_json() {
    let toml =
        "issuer = \"https://b.example\"\n[grades]\n\"A+\" = \"AAA\"\nA = \"AA\"\nB = \"B\"\n";
    let m = GradeMap::parse(toml, &OURS).unwrap();
    assert_eq!(m.translate("A+"), Some("AAA"));
    assert_eq!(m.translate("Z"), None);
    let json = r#"{"issuer":"https://b.example","grades":{"A+":"AAA"}}"#;
    assert_eq!(
        GradeMap::parse(json, &OURS).unwrap().translate("A+"),
        Some("AAA")
    );
    for (text, want) in [
        ("issuer = \"ftp://x\"\n[grades]\nA = \"A\"", "BadIssuer"),
        ("issuer = \"https://b.example\"\n[grades]\n", "Empty"),
        (
            "issuer = \"https://b.example\"\n[grades]\n\"A A\" = \"A\"",
            "BadGrade",
        ),
        (
            "issuer = \"https://b.example\"\n[grades]\nA = \"S\"",
            "UnknownLocal",
        ),
        (
            "issuer = \"https://b.example\"\nextra = 1\n[grades]\nA = \"A\"",
            "Syntax",
        ),
        ("{\"issuer\": 1}", "Syntax"),
    ] {
        let err = GradeMap::parse(text, &OURS).unwrap_err();
        assert!(format!("{err:?}").starts_with(want), "{text}: {err:?}");
    }
}

#[test]
fn refusal_codes_are_the_serialised_names() {
    for r in Refusal::ALL {
        assert_eq!(
            serde_json::to_value(r).unwrap(),
            serde_json::json!(r.code())
        );
    }
}
