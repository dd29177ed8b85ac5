//! Scenario validation: benefits pass; anything that would be a charge or a
//! denial is refused with its path and reason, whatever else the input holds
//! (property tests), and thresholds follow the model's grade bands.

use super::*;
use crate::catalogue::Catalogue;
use crate::model::Model;
use proptest::prelude::*;

fn grades() -> Vec<Grade> {
    Model::builtin(&Catalogue::builtin()).doc.grades
}

fn today() -> Date {
    Date::constant(2026, 11, 30)
}

fn good() -> ScenarioInput {
    ScenarioInput {
        code: "SX-BUS-01".into(),
        provider: "绍兴公交集团".into(),
        sector: "transport".into(),
        description_zh: "诚信分达标者乘坐公交享受八折优惠".into(),
        description_en: "20% off bus fares for residents at the minimum".into(),
        benefit_kind: "discount".into(),
        amounts: vec![("percent".into(), 20)],
        min_grade: Some("AA".into()),
        min_score: None,
        valid_from: Date::constant(2026, 1, 1),
        valid_until: Date::constant(2027, 12, 31),
    }
}

fn reasons(input: &ScenarioInput) -> Vec<(String, Reason)> {
    match validate(input, &grades(), today()) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.into_iter().map(|i| (i.path, i.reason)).collect(),
    }
}

#[test]
fn a_discount_is_a_benefit() {
    let s = validate(&good(), &grades(), today()).unwrap();
    assert_eq!(s.sector, Sector::Transport);
    assert_eq!(
        s.benefit,
        Benefit {
            kind: BenefitKind::Discount,
            amount: Some(20)
        }
    );
    assert_eq!(s.threshold, Threshold::Grade("AA".into()));
    assert!(s.valid_on(today()));
    assert!(!s.valid_on(Date::constant(2028, 1, 1)));
}

#[test]
fn every_kind_without_a_number_is_a_benefit() {
    for kind in ["deposit_waiver", "priority", "free_service"] {
        let mut i = good();
        i.benefit_kind = kind.into();
        i.amounts.clear();
        assert!(validate(&i, &grades(), today()).is_ok(), "{kind}");
    }
}

#[test]
fn a_negative_discount_is_refused_as_not_positive() {
    let mut i = good();
    i.amounts = vec![("percent".into(), -10)];
    assert_eq!(
        reasons(&i),
        [("benefit.percent".to_owned(), Reason::NotPositive)]
    );
    let e = validate(&i, &grades(), today()).unwrap_err();
    assert!(e.not_incentive());
}

#[test]
fn penalty_wording_is_refused_in_each_description() {
    for (zh, en, path) in [
        ("违约者加收附加费", "fares as usual", "description_zh"),
        (
            "正常票价",
            "A surcharge applies below the minimum",
            "description_en",
        ),
        ("低于标准者提高押金", "fares as usual", "description_zh"),
        (
            "正常票价",
            "Deposit increase for low scores",
            "description_en",
        ),
        ("低于等级者不予办理", "fares as usual", "description_zh"),
        ("正常票价", "Service is denied to others", "description_en"),
        ("拒绝为其提供服务", "fares as usual", "description_zh"),
    ] {
        let mut i = good();
        i.description_zh = zh.into();
        i.description_en = en.into();
        assert_eq!(
            reasons(&i),
            [(path.to_owned(), Reason::PenaltyWording)],
            "{zh} / {en}"
        );
    }
}

#[test]
fn english_words_match_whole_words_only() {
    assert!(penalty_words("urban bus fares, 20% off").is_empty());
    assert!(penalty_words("Priority boarding; no deposit").is_empty());
    assert_eq!(penalty_words("BANNED!"), ["banned"]);
    assert_eq!(penalty_words("an extra-fee"), ["extra fee"]);
}

#[test]
fn every_error_is_reported_with_its_path() {
    let i = ScenarioInput {
        code: " ".into(),
        provider: "x".into(),
        sector: "casino".into(),
        description_zh: "加价".into(),
        description_en: "ok".into(),
        benefit_kind: "fine".into(),
        amounts: vec![],
        min_grade: Some("Z".into()),
        min_score: Some(700),
        valid_from: Date::constant(2026, 6, 1),
        valid_until: Date::constant(2026, 5, 1),
    };
    let got = reasons(&i);
    assert_eq!(
        got,
        [
            ("code".to_owned(), Reason::Missing),
            ("sector".to_owned(), Reason::UnknownSector),
            ("description_zh".to_owned(), Reason::PenaltyWording),
            ("benefit.kind".to_owned(), Reason::UnknownBenefit),
            ("min_grade".to_owned(), Reason::ThresholdConflict),
            ("valid_until".to_owned(), Reason::InvalidValidity),
        ]
    );
}

#[test]
fn thresholds_are_checked_against_the_model() {
    let mut i = good();
    i.min_grade = Some("AAAA".into());
    assert_eq!(
        reasons(&i),
        [("min_grade".to_owned(), Reason::UnknownGrade)]
    );
    i.min_grade = None;
    i.min_score = Some(1001);
    assert_eq!(reasons(&i), [("min_score".to_owned(), Reason::OutOfRange)]);
    i.min_score = Some(650);
    assert!(reasons(&i).is_empty());
    i.min_score = None;
    assert_eq!(
        reasons(&i),
        [("min_grade".to_owned(), Reason::ThresholdConflict)]
    );
}

#[test]
fn a_grade_threshold_is_met_from_its_band_up() {
    let g = grades();
    let aa = Threshold::Grade("AA".into());
    assert!(aa.met(Some(700), &g));
    assert!(aa.met(Some(800), &g));
    assert!(!aa.met(Some(699), &g));
    assert!(!aa.met(None, &g));
    assert!(!Threshold::Grade("gone".into()).met(Some(1000), &g));
    assert!(Threshold::Score(650).met(Some(650), &g));
    assert!(!Threshold::Score(650).met(Some(649), &g));
}

fn kind() -> impl Strategy<Value = BenefitKind> {
    prop::sample::select(BenefitKind::ALL.to_vec())
}

proptest! {
    /// Whatever the rest of the input, a number at or below zero on a
    /// benefit is refused as not positive, at its path.
    #[test]
    fn no_benefit_number_at_or_below_zero_passes(
        k in kind(),
        field in prop::sample::select(AMOUNT_FIELDS.to_vec()),
        value in -1_000_000i64..=0,
        score in 0i64..=1000,
    ) {
        let mut i = good();
        i.benefit_kind = k.code().into();
        i.amounts = vec![(field.into(), value)];
        i.min_grade = None;
        i.min_score = Some(score);
        let e = validate(&i, &grades(), today()).unwrap_err();
        let path = format!("benefit.{field}");
        let found = e.0.iter().any(|x| x.reason == Reason::NotPositive && x.path == path);
        prop_assert!(found);
        prop_assert!(e.not_incentive());
    }

    /// A description with a penalty word anywhere in it is refused.
    #[test]
    fn penalty_words_anywhere_are_refused(
        before in "[a-z ]{0,20}",
        after in "[a-z ]{0,20}",
        w in prop::sample::select(PENALTY_ZH.to_vec()),
    ) {
        let mut i = good();
        i.description_zh = format!("{before}{w}{after}");
        let e = validate(&i, &grades(), today()).unwrap_err();
        prop_assert!(e.0.iter().any(|x| x.reason == Reason::PenaltyWording && x.path == "description_zh"));
    }

    /// Every accepted scenario has a positive amount within its kind's bound
    /// exactly when the kind takes one, and a threshold within the model.
    #[test]
    fn what_passes_is_a_benefit(
        k in kind(),
        value in -100i64..20_000,
        score in -10i64..1100,
    ) {
        let mut i = good();
        i.benefit_kind = k.code().into();
        i.amounts = k.amount().map(|(f, _)| vec![(f.to_owned(), value)]).unwrap_or_default();
        i.min_grade = None;
        i.min_score = Some(score);
        if let Ok(s) = validate(&i, &grades(), today()) {
            match (k.amount(), s.benefit.amount) {
                (Some((_, max)), Some(a)) => prop_assert!(a > 0 && a <= max),
                (None, None) => {}
                other => prop_assert!(false, "{other:?}"),
            }
            prop_assert!(matches!(s.threshold, Threshold::Score(m) if (0..=1000).contains(&m)));
        } else {
            prop_assert!(k.amount().is_some_and(|(_, max)| value <= 0 || value > max) || !(0..=1000).contains(&score));
        }
    }
}
