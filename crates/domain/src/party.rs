//! Authorised parties (授权主体, 第十六条): their kinds and the closed list of
//! purposes a party may declare. A government party may declare incentive
//! purposes only (第十九条: government use of the score is for incentives).

use serde::{Deserialize, Serialize};

/// What kind of organisation a party is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartyKind {
    /// A bank or other financial institution.
    Bank,
    /// A merchant: hotel, shop, rental company.
    Merchant,
    /// A transport operator.
    Transport,
    /// A government body sharing under 第十九条.
    Government,
}

impl PartyKind {
    /// Every kind.
    pub const ALL: [PartyKind; 4] = [
        PartyKind::Bank,
        PartyKind::Merchant,
        PartyKind::Transport,
        PartyKind::Government,
    ];

    /// The kind as the CLI and the store spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            PartyKind::Bank => "bank",
            PartyKind::Merchant => "merchant",
            PartyKind::Transport => "transport",
            PartyKind::Government => "government",
        }
    }

    /// The kind spelled `s`, if any.
    pub fn parse(s: &str) -> Option<PartyKind> {
        PartyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Why a party wants a resident's score: a closed list, so a resident (and
/// the access log) always reads a purpose the platform can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Purpose {
    /// 信用贷款利率优惠: a lower rate on a credit loan.
    LoanDiscount,
    /// 免押金: a deposit waived (shared bikes, rentals of goods).
    DepositWaiver,
    /// 酒店免押入住: hotel check-in without a deposit.
    HotelDepositFree,
    /// 交通出行优惠: a transport discount.
    TransportDiscount,
    /// 租房押金减免: a reduced rental deposit.
    RentalDeposit,
    /// 政府激励措施: a government incentive (第十九条).
    GovernmentIncentive,
    /// 行政审批容缺受理 / 绿色通道: a simplified administrative procedure.
    FastTrackService,
    /// 文旅优惠: a culture and tourism discount.
    TourismDiscount,
    /// 养老医疗优惠: an elderly-care or medical benefit.
    ElderlyCareBenefit,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 9] = [
        Purpose::LoanDiscount,
        Purpose::DepositWaiver,
        Purpose::HotelDepositFree,
        Purpose::TransportDiscount,
        Purpose::RentalDeposit,
        Purpose::GovernmentIncentive,
        Purpose::FastTrackService,
        Purpose::TourismDiscount,
        Purpose::ElderlyCareBenefit,
    ];

    /// The purpose's code, as the CLI, the API and the store spell it.
    pub fn code(self) -> &'static str {
        match self {
            Purpose::LoanDiscount => "loan_discount",
            Purpose::DepositWaiver => "deposit_waiver",
            Purpose::HotelDepositFree => "hotel_deposit_free",
            Purpose::TransportDiscount => "transport_discount",
            Purpose::RentalDeposit => "rental_deposit",
            Purpose::GovernmentIncentive => "government_incentive",
            Purpose::FastTrackService => "fast_track_service",
            Purpose::TourismDiscount => "tourism_discount",
            Purpose::ElderlyCareBenefit => "elderly_care_benefit",
        }
    }

    /// The purpose with code `s`, if any.
    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.code() == s)
    }

    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            Purpose::LoanDiscount => "信用贷款利率优惠",
            Purpose::DepositWaiver => "免押金",
            Purpose::HotelDepositFree => "酒店免押入住",
            Purpose::TransportDiscount => "交通出行优惠",
            Purpose::RentalDeposit => "租房押金减免",
            Purpose::GovernmentIncentive => "政府守信激励",
            Purpose::FastTrackService => "行政审批绿色通道",
            Purpose::TourismDiscount => "文旅优惠",
            Purpose::ElderlyCareBenefit => "养老医疗优惠",
        }
    }

    /// The English name.
    pub fn en(self) -> &'static str {
        match self {
            Purpose::LoanDiscount => "loan rate discount",
            Purpose::DepositWaiver => "deposit waiver",
            Purpose::HotelDepositFree => "deposit-free hotel stay",
            Purpose::TransportDiscount => "transport discount",
            Purpose::RentalDeposit => "reduced rental deposit",
            Purpose::GovernmentIncentive => "government incentive",
            Purpose::FastTrackService => "fast-track administrative service",
            Purpose::TourismDiscount => "culture and tourism discount",
            Purpose::ElderlyCareBenefit => "elderly-care or medical benefit",
        }
    }

    /// Chinese then English, as the access log shows it.
    pub fn label(self) -> String {
        format!("{} {}", self.zh(), self.en())
    }

    /// Whether a government party may declare it (第十九条: incentives
    /// that a public body grants, nothing a market party offers).
    pub fn government_incentive(self) -> bool {
        matches!(
            self,
            Purpose::GovernmentIncentive | Purpose::FastTrackService | Purpose::ElderlyCareBenefit
        )
    }
}

/// Why a party's declared purposes are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurposeError {
    #[error("a party must declare at least one purpose")]
    None,
    #[error("unknown purpose `{0}` (known: loan_discount, deposit_waiver, hotel_deposit_free, transport_discount, rental_deposit, government_incentive, fast_track_service, tourism_discount, elderly_care_benefit)")]
    Unknown(String),
    #[error("a government party may declare incentive purposes only (第十九条): `{0}` is not one (government_incentive, fast_track_service, elderly_care_benefit are)")]
    NotIncentive(String),
}

/// The purposes a party of `kind` declares, parsed, sorted and without
/// duplicates; refused if empty, unknown, or not an incentive for a
/// government party.
pub fn declared_purposes(kind: PartyKind, codes: &[&str]) -> Result<Vec<Purpose>, PurposeError> {
    let mut out = Vec::new();
    for c in codes {
        let c = c.trim();
        if c.is_empty() {
            continue;
        }
        let p = Purpose::parse(c).ok_or_else(|| PurposeError::Unknown(c.to_owned()))?;
        if kind == PartyKind::Government && !p.government_incentive() {
            return Err(PurposeError::NotIncentive(c.to_owned()));
        }
        out.push(p);
    }
    if out.is_empty() {
        return Err(PurposeError::None);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_and_kinds_round_trip() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.code()), Some(p));
            assert!(!p.zh().is_empty() && !p.en().is_empty());
        }
        for k in PartyKind::ALL {
            assert_eq!(PartyKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(PartyKind::parse("Bank"), None);
    }

    #[test]
    fn government_parties_declare_incentives_only() {
        assert_eq!(
            declared_purposes(PartyKind::Government, &["loan_discount"]),
            Err(PurposeError::NotIncentive("loan_discount".into()))
        );
        assert_eq!(
            declared_purposes(
                PartyKind::Government,
                &["government_incentive", "fast_track_service"]
            ),
            Ok(vec![
                Purpose::GovernmentIncentive,
                Purpose::FastTrackService
            ])
        );
        assert_eq!(
            declared_purposes(PartyKind::Bank, &["loan_discount", "loan_discount"]),
            Ok(vec![Purpose::LoanDiscount])
        );
        assert_eq!(
            declared_purposes(PartyKind::Bank, &[]),
            Err(PurposeError::None)
        );
        assert_eq!(
            declared_purposes(PartyKind::Bank, &["ranking"]),
            Err(PurposeError::Unknown("ranking".into()))
        );
    }

    proptest! {
        #[test]
        fn accepted_purposes_fit_the_kind(
            kind in proptest::sample::select(PartyKind::ALL.to_vec()),
            picks in proptest::collection::vec(proptest::sample::select(Purpose::ALL.to_vec()), 0..6),
        ) {
            let codes: Vec<&str> = picks.iter().map(|p| p.code()).collect();
            match declared_purposes(kind, &codes) {
                Ok(ps) => {
                    prop_assert!(!ps.is_empty());
                    prop_assert!(ps.windows(2).all(|w| w[0] < w[1]));
                    for p in &ps {
                        prop_assert!(picks.contains(p));
                        prop_assert!(kind != PartyKind::Government || p.government_incentive());
                    }
                }
                Err(PurposeError::None) => prop_assert!(picks.is_empty()),
                Err(PurposeError::NotIncentive(c)) => {
                    prop_assert_eq!(kind, PartyKind::Government);
                    prop_assert!(!Purpose::parse(&c).unwrap().government_incentive());
                }
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
    }
}
