//! Agency staff (工作机构): their names, roles and the role matrix saying
//! which role may do which staff operation, and the password policy.
//!
//! The roles are separate duties, none a superset of another: an admin
//! manages the agency's data and accounts but decides no case, a reviewer
//! decides cases but changes no configuration, an auditor only reads the
//! audit log. One right is shared by all three: the aggregate statistics
//! of the dashboard (counts, never a person), which every duty needs to see
//! the platform's state.

use serde::{Deserialize, Serialize};

/// A staff member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages the catalogue, units, templates, models, scenarios, partner
    /// cities, the calendar and staff accounts.
    Admin,
    /// Decides self-reports, objections and repair applications.
    Reviewer,
    /// Reads the audit log.
    Auditor,
}

/// A staff operation a role may be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Right {
    /// List and decide residents' self-reports (`/staff/self-reports`).
    DecideSelfReports,
    /// List, accept and decide objections (`/staff/objections`).
    DecideObjections,
    /// List and decide credit-repair applications (`/staff/repairs`).
    DecideRepairs,
    /// Publish catalogue versions and commitment templates.
    ManageCatalogue,
    /// Add, rotate and disable cooperating units.
    ManageUnits,
    /// Validate, simulate and publish score models.
    ManageModels,
    /// Manage 信易+ scenarios.
    ManageScenarios,
    /// Register partner cities.
    ManagePartnerCities,
    /// Load the working-day calendar.
    ManageCalendar,
    /// Add and disable staff accounts.
    ManageStaff,
    /// Read the audit log.
    ReadAuditLog,
    /// Read the dashboard's aggregate statistics (`/staff/statistics`):
    /// counts only, never a person (第十八条).
    ViewStatistics,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Reviewer, Role::Auditor];

    /// The role's name, as the CLI and the API spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Auditor => "auditor",
        }
    }

    /// The role named `s` (exactly, lowercase).
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role holds `right`: the role matrix.
    pub fn may(self, right: Right) -> bool {
        use Right::*;
        match self {
            Role::Reviewer => matches!(
                right,
                DecideSelfReports | DecideObjections | DecideRepairs | ViewStatistics
            ),
            Role::Admin => matches!(
                right,
                ManageCatalogue
                    | ManageUnits
                    | ManageModels
                    | ManageScenarios
                    | ManagePartnerCities
                    | ManageCalendar
                    | ManageStaff
                    | ViewStatistics
            ),
            Role::Auditor => matches!(right, ReadAuditLog | ViewStatistics),
        }
    }

    /// The rights this role holds, in [`Right::ALL`] order.
    pub fn rights(self) -> Vec<Right> {
        Right::ALL.into_iter().filter(|r| self.may(*r)).collect()
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Right {
    /// Every right.
    pub const ALL: [Right; 12] = [
        Right::DecideSelfReports,
        Right::DecideObjections,
        Right::DecideRepairs,
        Right::ManageCatalogue,
        Right::ManageUnits,
        Right::ManageModels,
        Right::ManageScenarios,
        Right::ManagePartnerCities,
        Right::ManageCalendar,
        Right::ManageStaff,
        Right::ReadAuditLog,
        Right::ViewStatistics,
    ];

    /// The right's name in API answers and audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Right::DecideSelfReports => "decide_self_reports",
            Right::DecideObjections => "decide_objections",
            Right::DecideRepairs => "decide_repairs",
            Right::ManageCatalogue => "manage_catalogue",
            Right::ManageUnits => "manage_units",
            Right::ManageModels => "manage_models",
            Right::ManageScenarios => "manage_scenarios",
            Right::ManagePartnerCities => "manage_partner_cities",
            Right::ManageCalendar => "manage_calendar",
            Right::ManageStaff => "manage_staff",
            Right::ReadAuditLog => "read_audit_log",
            Right::ViewStatistics => "view_statistics",
        }
    }
}

impl std::fmt::Display for Right {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a staff name or password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error("a staff name is 1–32 of a–z, 0–9, `.`, `-` and `_`, starting with a letter (工作人员账号名格式不正确)")]
    BadName,
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters (密码至少 {MIN_PASSWORD_CHARS} 个字符)")]
    PasswordTooShort,
    #[error("the password must be at most {MAX_PASSWORD_BYTES} bytes (密码过长)")]
    PasswordTooLong,
    #[error("the password must not contain control characters (密码不能包含控制字符)")]
    PasswordControl,
}

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in bytes (bounds the hashing work an
/// unauthenticated sign-in can cause).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A valid staff account name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StaffName(String);

impl StaffName {
    /// Parses a name: 1–32 of `a–z 0–9 . - _`, starting with a letter.
    pub fn parse(s: &str) -> Result<StaffName, StaffError> {
        let ok = (1..=32).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
            });
        if ok {
            Ok(StaffName(s.to_owned()))
        } else {
            Err(StaffError::BadName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for StaffName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a new password against the policy (length in characters, no
/// control characters). Says nothing about its content beyond that.
pub fn check_password(password: &str) -> Result<(), StaffError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(StaffError::PasswordTooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StaffError::PasswordTooShort);
    }
    if password.chars().any(char::is_control) {
        return Err(StaffError::PasswordControl);
    }
    Ok(())
}

/// The audit actor of a staff member: `staff:NAME`.
pub fn actor(name: &str) -> String {
    format!("staff:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The matrix, written out in full: every role × every right.
    #[test]
    fn role_matrix_is_exactly_the_specified_one() {
        use Right::*;
        let expected: &[(Right, [bool; 3])] = &[
            // (right, [admin, reviewer, auditor])
            (DecideSelfReports, [false, true, false]),
            (DecideObjections, [false, true, false]),
            (DecideRepairs, [false, true, false]),
            (ManageCatalogue, [true, false, false]),
            (ManageUnits, [true, false, false]),
            (ManageModels, [true, false, false]),
            (ManageScenarios, [true, false, false]),
            (ManagePartnerCities, [true, false, false]),
            (ManageCalendar, [true, false, false]),
            (ManageStaff, [true, false, false]),
            (ReadAuditLog, [false, false, true]),
            (ViewStatistics, [true, true, true]),
        ];
        assert_eq!(expected.len(), Right::ALL.len());
        for (right, row) in expected {
            for (role, want) in [Role::Admin, Role::Reviewer, Role::Auditor].iter().zip(row) {
                assert_eq!(role.may(*right), *want, "{role} × {right}");
            }
        }
    }

    #[test]
    fn every_right_but_statistics_belongs_to_exactly_one_role() {
        for right in Right::ALL {
            let holders = Role::ALL.iter().filter(|r| r.may(right)).count();
            let want = if right == Right::ViewStatistics { 3 } else { 1 };
            assert_eq!(holders, want, "{right}");
        }
    }

    #[test]
    fn rights_lists_agree_with_may() {
        for role in Role::ALL {
            let listed = role.rights();
            for right in Right::ALL {
                assert_eq!(listed.contains(&right), role.may(right));
            }
        }
        assert_eq!(
            Role::Auditor.rights(),
            vec![Right::ReadAuditLog, Right::ViewStatistics]
        );
    }

    #[test]
    fn names_round_trip_and_are_distinct() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_value(role).unwrap();
            assert_eq!(json, serde_json::json!(role.as_str()));
        }
        for right in Right::ALL {
            let json = serde_json::to_value(right).unwrap();
            assert_eq!(json, serde_json::json!(right.as_str()));
        }
        let mut names: Vec<_> = Right::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Right::ALL.len());
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse(""), None);
    }

    #[test]
    fn staff_names() {
        for ok in ["wang", "li.na", "a", "zhang_3-x", &"a".repeat(32)] {
            assert!(StaffName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Wang",
            "3li",
            "li na",
            "王",
            "a/b",
            &"a".repeat(33),
            "-x",
        ] {
            assert_eq!(StaffName::parse(bad), Err(StaffError::BadName), "{bad}");
        }
    }

    #[test]
    fn password_policy() {
        assert_eq!(check_password("short"), Err(StaffError::PasswordTooShort));
        assert_eq!(
            check_password("elevenchars"),
            Err(StaffError::PasswordTooShort)
        );
        assert!(check_password("twelve chars").is_ok());
        // Characters, not bytes: twelve CJK characters pass, eleven do not.
        assert!(check_password(&"诚".repeat(12)).is_ok());
        assert_eq!(
            check_password(&"诚".repeat(11)),
            Err(StaffError::PasswordTooShort)
        );
        assert_eq!(
            check_password("twelve chars\n"),
            Err(StaffError::PasswordControl)
        );
        assert_eq!(
            check_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(StaffError::PasswordTooLong)
        );
    }

    proptest! {
        #[test]
        fn parse_accepts_only_the_name_alphabet(s in "\\PC{0,40}") {
            if let Ok(n) = StaffName::parse(&s) {
                prop_assert_eq!(n.as_str(), s.as_str());
                prop_assert!(s.len() <= 32 && !s.is_empty());
                prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
            }
        }

        #[test]
        fn any_role_name_other_than_the_three_is_refused(s in "[a-zA-Z]{0,10}") {
            let known = ["admin", "reviewer", "auditor"].contains(&s.as_str());
            prop_assert_eq!(Role::parse(&s).is_some(), known);
        }
    }
}
