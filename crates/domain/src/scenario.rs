//! 信易+ incentive scenarios (第二十条–第二十二条): a provider's benefit for
//! residents whose score or grade reaches a minimum, and the rule that makes
//! a scenario a benefit and nothing else (第十八条: incentives only, never
//! punishment).
//!
//! A scenario declares its benefit structurally — a [`BenefitKind`] with
//! positive numbers where it has any — so "a discount of −10 %" cannot be
//! stated; and its descriptions are read for wording that reveals a penalty
//! (a surcharge, a deposit increase, a denial), which is refused too. Every
//! problem is reported with its path and a stable reason.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::model::Grade;

#[path = "scenario_penalty.rs"]
mod penalty;
pub use penalty::penalty_words;
#[cfg(test)]
use penalty::PENALTY_ZH;

/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// The longest provider name, in characters.
pub const MAX_PROVIDER_CHARS: usize = 100;
/// The longest scenario code, in characters.
pub const MAX_CODE_CHARS: usize = 32;
/// The largest extra credit line, in yuan.
pub const MAX_CREDIT_YUAN: i64 = 10_000_000;
/// The largest rate reduction, in basis points.
pub const MAX_RATE_BASIS_POINTS: i64 = 10_000;

/// The sectors 第二十条 and 第二十一条 name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    /// 金融 (loans, credit, rates; 第二十条).
    Finance,
    /// 文化旅游.
    CultureTourism,
    /// 酒店餐饮.
    HotelCatering,
    /// 交通出行.
    Transport,
    /// 房屋租赁.
    Rental,
    /// 养老就医.
    ElderlyMedical,
}

impl Sector {
    /// Every sector, in the regulation's order.
    pub const ALL: [Sector; 6] = [
        Sector::Finance,
        Sector::CultureTourism,
        Sector::HotelCatering,
        Sector::Transport,
        Sector::Rental,
        Sector::ElderlyMedical,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Sector::Finance => "finance",
            Sector::CultureTourism => "culture_tourism",
            Sector::HotelCatering => "hotel_catering",
            Sector::Transport => "transport",
            Sector::Rental => "rental",
            Sector::ElderlyMedical => "elderly_medical",
        }
    }

    /// The Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Sector::Finance => "金融服务",
            Sector::CultureTourism => "文化旅游",
            Sector::HotelCatering => "酒店餐饮",
            Sector::Transport => "交通出行",
            Sector::Rental => "房屋租赁",
            Sector::ElderlyMedical => "养老就医",
        }
    }

    /// The English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Sector::Finance => "Finance",
            Sector::CultureTourism => "Culture and tourism",
            Sector::HotelCatering => "Hotels and catering",
            Sector::Transport => "Transport",
            Sector::Rental => "Housing rental",
            Sector::ElderlyMedical => "Elderly care and medical care",
        }
    }

    /// The sector with this code.
    pub fn parse(code: &str) -> Option<Sector> {
        Sector::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// What kind of benefit a scenario grants. Each is an advantage; none can
/// be made into a charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BenefitKind {
    /// A price reduction of `percent` (1–100) per cent.
    Discount,
    /// No deposit is asked (免押金).
    DepositWaiver,
    /// Priority or fast-track service (优先/绿色通道).
    Priority,
    /// An extra credit line of `amount_yuan` yuan (授信额度).
    CreditLine,
    /// A lower interest rate or fee, by `basis_points` (利率费率优惠).
    RateReduction,
    /// A service free of charge.
    FreeService,
}

impl BenefitKind {
    /// Every kind.
    pub const ALL: [BenefitKind; 6] = [
        BenefitKind::Discount,
        BenefitKind::DepositWaiver,
        BenefitKind::Priority,
        BenefitKind::CreditLine,
        BenefitKind::RateReduction,
        BenefitKind::FreeService,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            BenefitKind::Discount => "discount",
            BenefitKind::DepositWaiver => "deposit_waiver",
            BenefitKind::Priority => "priority",
            BenefitKind::CreditLine => "credit_line",
            BenefitKind::RateReduction => "rate_reduction",
            BenefitKind::FreeService => "free_service",
        }
    }

    /// The kind with this code.
    pub fn parse(code: &str) -> Option<BenefitKind> {
        BenefitKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The number this kind needs, with its largest value.
    pub fn amount(self) -> Option<(&'static str, i64)> {
        match self {
            BenefitKind::Discount => Some(("percent", 100)),
            BenefitKind::CreditLine => Some(("amount_yuan", MAX_CREDIT_YUAN)),
            BenefitKind::RateReduction => Some(("basis_points", MAX_RATE_BASIS_POINTS)),
            BenefitKind::DepositWaiver | BenefitKind::Priority | BenefitKind::FreeService => None,
        }
    }
}

/// Every number a benefit may carry (`percent`, `amount_yuan`,
/// `basis_points`).
pub const AMOUNT_FIELDS: [&str; 3] = ["percent", "amount_yuan", "basis_points"];

/// A validated benefit: its kind and, where the kind has one, a positive amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Benefit {
    pub kind: BenefitKind,
    /// In the unit [`BenefitKind::amount`] names; `None` for kinds without one.
    pub amount: Option<i64>,
}

/// The minimum a resident must reach: a grade or a score, never both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Threshold {
    /// This grade or a better one (by the grade bands of the model in force).
    Grade(String),
    /// At least this score.
    Score(i32),
}

impl Threshold {
    /// Whether a stored score meets the threshold under the model whose
    /// grade bands are `grades`. An ineligible resident (no score) never
    /// does; a grade no longer in the model is met by no one.
    pub fn met(&self, score: Option<i32>, grades: &[Grade]) -> bool {
        let Some(score) = score else {
            return false;
        };
        match self {
            Threshold::Score(min) => score >= *min,
            Threshold::Grade(g) => grades
                .iter()
                .find(|band| &band.grade == g)
                .is_some_and(|band| score >= band.min),
        }
    }
}

/// A scenario as an admin sends it, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScenarioInput {
    pub code: String,
    pub provider: String,
    pub sector: String,
    pub description_zh: String,
    pub description_en: String,
    pub benefit_kind: String,
    /// The benefit's numbers by name (`percent`, …), as sent.
    pub amounts: Vec<(String, i64)>,
    pub min_grade: Option<String>,
    pub min_score: Option<i64>,
    pub valid_from: Date,
    pub valid_until: Date,
}

/// A validated scenario: a benefit, by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub code: String,
    pub provider: String,
    pub sector: Sector,
    pub description_zh: String,
    pub description_en: String,
    pub benefit: Benefit,
    pub threshold: Threshold,
    pub valid_from: Date,
    pub valid_until: Date,
}

impl Scenario {
    /// Whether the scenario is offered on `day` (retirement aside).
    pub fn valid_on(&self, day: Date) -> bool {
        self.valid_from <= day && day <= self.valid_until
    }
}

/// Why part of a scenario was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A benefit's number is zero or negative (a negative discount is a surcharge).
    NotPositive,
    /// The description reveals a penalty (surcharge, deposit increase, denial…).
    PenaltyWording,
    /// The benefit kind is not one of the benefits.
    UnknownBenefit,
    /// A number the benefit kind does not take.
    UnexpectedAmount,
    /// A required value is absent or blank.
    Missing,
    /// Too long, too large, or not allowed characters.
    OutOfRange,
    /// Not one of the sectors.
    UnknownSector,
    /// Not a grade of the model in force.
    UnknownGrade,
    /// Both a minimum grade and a minimum score, or neither.
    ThresholdConflict,
    /// `valid_until` is before `valid_from` or already past.
    InvalidValidity,
}

impl Reason {
    /// Whether the reason is that the scenario would not be a benefit
    /// (第十八条), as against an ordinary input error.
    pub fn is_not_incentive(self) -> bool {
        matches!(
            self,
            Reason::NotPositive | Reason::PenaltyWording | Reason::UnknownBenefit
        )
    }

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Reason::NotPositive => "not_positive",
            Reason::PenaltyWording => "penalty_wording",
            Reason::UnknownBenefit => "unknown_benefit",
            Reason::UnexpectedAmount => "unexpected_amount",
            Reason::Missing => "missing",
            Reason::OutOfRange => "out_of_range",
            Reason::UnknownSector => "unknown_sector",
            Reason::UnknownGrade => "unknown_grade",
            Reason::ThresholdConflict => "threshold_conflict",
            Reason::InvalidValidity => "invalid_validity",
        }
    }
}

/// One problem: where, why, and in words (Chinese first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub path: String,
    pub reason: Reason,
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} ({})",
            self.path,
            self.message,
            self.reason.code()
        )
    }
}

/// Every problem found in a scenario.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ScenarioErrors(pub Vec<Issue>);

impl ScenarioErrors {
    /// Whether any problem is that the scenario would not be a benefit.
    pub fn not_incentive(&self) -> bool {
        self.0.iter().any(|i| i.reason.is_not_incentive())
    }
}

fn issue(issues: &mut Vec<Issue>, path: &str, reason: Reason, message: impl Into<String>) {
    issues.push(Issue {
        path: path.to_owned(),
        reason,
        message: message.into(),
    });
}

/// A required text: trimmed, not blank, at most `max` characters, without
/// forbidden characters.
fn text(issues: &mut Vec<Issue>, path: &str, value: &str, max: usize) -> String {
    let v = value.trim();
    if v.is_empty() {
        issue(
            issues,
            path,
            Reason::Missing,
            "不能为空 (must not be blank)",
        );
    } else if v.chars().count() > max {
        issue(
            issues,
            path,
            Reason::OutOfRange,
            format!("最多 {max} 个字符 (at most {max} characters)"),
        );
    } else if let Err(e) = crate::text::check(v) {
        issue(issues, path, Reason::OutOfRange, e.to_string());
    }
    v.to_owned()
}

fn benefit(issues: &mut Vec<Issue>, input: &ScenarioInput) -> Option<Benefit> {
    let Some(kind) = BenefitKind::parse(input.benefit_kind.trim()) else {
        let kinds: Vec<&str> = BenefitKind::ALL.iter().map(|k| k.code()).collect();
        issue(
            issues,
            "benefit.kind",
            Reason::UnknownBenefit,
            format!(
                "不是一种优惠或便利 (not a benefit; one of {})",
                kinds.join(", ")
            ),
        );
        return None;
    };
    let wanted = kind.amount();
    let mut amount = None;
    for (name, value) in &input.amounts {
        let path = format!("benefit.{name}");
        match wanted {
            Some((field, max)) if field == name => {
                if *value <= 0 {
                    issue(
                        issues,
                        &path,
                        Reason::NotPositive,
                        format!("必须为正数，负值即为惩戒 (must be positive: {value} would be a charge, not a benefit)"),
                    );
                } else if *value > max {
                    issue(
                        issues,
                        &path,
                        Reason::OutOfRange,
                        format!("最大为 {max} (at most {max})"),
                    );
                } else {
                    amount = Some(*value);
                }
            }
            _ if *value <= 0 => issue(
                issues,
                &path,
                Reason::NotPositive,
                format!(
                    "必须为正数 (must be positive: {value} would be a charge); `{}` takes no such number either",
                    kind.code()
                ),
            ),
            _ => issue(
                issues,
                &path,
                Reason::UnexpectedAmount,
                format!("`{}` 不需要此数值 (`{}` takes no `{name}`)", kind.code(), kind.code()),
            ),
        }
    }
    match (wanted, amount) {
        (None, _) => Some(Benefit { kind, amount: None }),
        (Some(_), Some(a)) => Some(Benefit {
            kind,
            amount: Some(a),
        }),
        (Some((field, _)), None) => {
            if !input.amounts.iter().any(|(n, _)| n == field) {
                issue(
                    issues,
                    &format!("benefit.{field}"),
                    Reason::Missing,
                    format!(
                        "`{}` 需要 `{field}` (`{}` needs `{field}`)",
                        kind.code(),
                        kind.code()
                    ),
                );
            }
            None
        }
    }
}

fn threshold(
    issues: &mut Vec<Issue>,
    input: &ScenarioInput,
    grades: &[Grade],
) -> Option<Threshold> {
    match (&input.min_grade, input.min_score) {
        (Some(_), Some(_)) | (None, None) => {
            issue(
                issues,
                "min_grade",
                Reason::ThresholdConflict,
                "须给出最低等级或最低分之一 (give exactly one of `min_grade` and `min_score`)",
            );
            None
        }
        (Some(g), None) => {
            let g = g.trim();
            if grades.iter().any(|band| band.grade == g) {
                Some(Threshold::Grade(g.to_owned()))
            } else {
                let known: Vec<&str> = grades.iter().map(|b| b.grade.as_str()).collect();
                issue(
                    issues,
                    "min_grade",
                    Reason::UnknownGrade,
                    format!(
                        "不是现行模型的等级 (not a grade of the model in force: {})",
                        known.join(", ")
                    ),
                );
                None
            }
        }
        (None, Some(s)) => {
            let lo = grades.iter().map(|b| b.min).min().unwrap_or(0);
            let hi = grades
                .iter()
                .map(|b| b.max)
                .max()
                .unwrap_or(crate::engine::MAX_SCORE);
            match i32::try_from(s) {
                Ok(s) if (lo..=hi).contains(&s) => Some(Threshold::Score(s)),
                _ => {
                    issue(
                        issues,
                        "min_score",
                        Reason::OutOfRange,
                        format!("须在 {lo}–{hi} 之间 (must be within the model's range {lo}–{hi})"),
                    );
                    None
                }
            }
        }
    }
}

/// Validates a scenario against the grade bands of the model in force, as of
/// `today`: every problem with its path, or a scenario that is a benefit.
pub fn validate(
    input: &ScenarioInput,
    grades: &[Grade],
    today: Date,
) -> Result<Scenario, ScenarioErrors> {
    let mut issues = Vec::new();
    let code = text(&mut issues, "code", &input.code, MAX_CODE_CHARS);
    if !code.is_empty()
        && !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        issue(
            &mut issues,
            "code",
            Reason::OutOfRange,
            "只能包含字母、数字、- 和 _ (letters, digits, `-` and `_` only)",
        );
    }
    let provider = text(&mut issues, "provider", &input.provider, MAX_PROVIDER_CHARS);
    let sector = Sector::parse(input.sector.trim());
    if sector.is_none() {
        let codes: Vec<&str> = Sector::ALL.iter().map(|s| s.code()).collect();
        issue(
            &mut issues,
            "sector",
            Reason::UnknownSector,
            format!("不是适用领域 (not a sector: one of {})", codes.join(", ")),
        );
    }
    let description_zh = text(
        &mut issues,
        "description_zh",
        &input.description_zh,
        MAX_DESCRIPTION_CHARS,
    );
    let description_en = text(
        &mut issues,
        "description_en",
        &input.description_en,
        MAX_DESCRIPTION_CHARS,
    );
    for (path, value) in [
        ("provider", &provider),
        ("description_zh", &description_zh),
        ("description_en", &description_en),
    ] {
        let words = penalty_words(value);
        if !words.is_empty() {
            issue(
                &mut issues,
                path,
                Reason::PenaltyWording,
                format!(
                    "描述了惩戒措施，信易+ 场景只能是激励 (describes a penalty — {} — but a scenario may only be a benefit, 第十八条)",
                    words.join(", ")
                ),
            );
        }
    }
    let benefit = benefit(&mut issues, input);
    let threshold = threshold(&mut issues, input, grades);
    if input.valid_until < input.valid_from {
        issue(
            &mut issues,
            "valid_until",
            Reason::InvalidValidity,
            "不能早于 valid_from (must not be before `valid_from`)",
        );
    } else if input.valid_until < today {
        issue(
            &mut issues,
            "valid_until",
            Reason::InvalidValidity,
            format!("已过期 (already past: today is {today})"),
        );
    }
    match (sector, benefit, threshold) {
        (Some(sector), Some(benefit), Some(threshold)) if issues.is_empty() => Ok(Scenario {
            code,
            provider,
            sector,
            description_zh,
            description_en,
            benefit,
            threshold,
            valid_from: input.valid_from,
            valid_until: input.valid_until,
        }),
        _ => Err(ScenarioErrors(issues)),
    }
}

#[cfg(test)]
#[path = "scenario_tests.rs"]
mod tests;
