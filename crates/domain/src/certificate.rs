//! Score certificates (第二十三条): the claims a certificate carries, the
//! rules a verifier applies to them once the signature holds, why a
//! certificate is refused, how long a retired signing key stays published,
//! and partner cities' grade maps (their grades to ours).
//!
//! Pure: the signature itself is checked by the use case (`chengxin-jobs`)
//! with a JOSE library; everything decided about what a valid signature
//! says is decided here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How long a certificate is valid: 30 days.
pub const VALIDITY_SECONDS: i64 = 30 * 86_400;
/// Clock skew tolerated for `iat` in the future.
pub const SKEW_SECONDS: i64 = 60;
/// The only signature algorithm a certificate may use.
pub const ALGORITHM: &str = "EdDSA";

/// A certificate's claims (JWT claim names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The issuing city's URL.
    pub iss: String,
    /// A pairwise pseudonym of the person for the party it was issued to.
    pub sub: String,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Expires at (exclusive), unix seconds.
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met: Option<bool>,
    pub model_version: String,
}

/// What a certificate states: a grade, or whether the score reaches one
/// threshold (and nothing else about the score).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Grade(String),
    Threshold { threshold: i32, met: bool },
}

impl Claims {
    /// The claims of a certificate issued at `iat`, valid for
    /// [`VALIDITY_SECONDS`].
    pub fn new(iss: &str, sub: &str, iat: i64, answer: &Answer, model_version: &str) -> Claims {
        let (grade, threshold, met) = match answer {
            Answer::Grade(g) => (Some(g.clone()), None, None),
            Answer::Threshold { threshold, met } => (None, Some(*threshold), Some(*met)),
        };
        Claims {
            iss: iss.to_owned(),
            sub: sub.to_owned(),
            iat,
            exp: iat + VALIDITY_SECONDS,
            grade,
            threshold,
            met,
            model_version: model_version.to_owned(),
        }
    }

    /// The statement, if the claims hold exactly one well-formed one.
    pub fn answer(&self) -> Option<Answer> {
        match (&self.grade, self.threshold, self.met) {
            (Some(g), None, None) if valid_grade_name(g) => Some(Answer::Grade(g.clone())),
            (None, Some(t), Some(met)) if (0..=1000).contains(&t) => {
                Some(Answer::Threshold { threshold: t, met })
            }
            _ => None,
        }
    }
}

/// Why a certificate is refused. The codes are stable: `cert verify` prints
/// them and `POST /api/v1/certificates/verify` answers them as `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Not a compact JWS with a JSON header and payload, or claims missing.
    #[error("证书格式错误 not a well-formed certificate")]
    Malformed,
    /// `alg` is not EdDSA (`none` included).
    #[error("签名算法不被接受 signature algorithm not allowed (only EdDSA)")]
    AlgNotAllowed,
    /// `iss` is neither this city nor a registered partner city.
    #[error("签发城市未登记 issuer is neither this city nor a registered partner city")]
    UnknownIssuer,
    /// No published key of the issuer has the header's `kid`.
    #[error("签名密钥未公布 no published key has this kid")]
    UnknownKey,
    /// The signature does not verify (the certificate was altered).
    #[error("签名无效 the signature does not verify")]
    BadSignature,
    /// `exp` has passed.
    #[error("证书已过期 the certificate has expired")]
    Expired,
    /// `iat` lies in the future beyond the tolerated skew.
    #[error("证书尚未生效 the certificate is not yet valid")]
    NotYetValid,
    /// The claims do not state exactly one grade or threshold answer, or
    /// their times are inconsistent.
    #[error("证书内容无效 the claims are invalid")]
    ClaimsInvalid,
    /// A partner's grade that their grade map does not translate.
    #[error("等级无法对应 the partner's grade is not in its grade map")]
    GradeUnmapped,
}

impl Refusal {
    /// The stable code (snake case).
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::AlgNotAllowed => "alg_not_allowed",
            Refusal::UnknownIssuer => "unknown_issuer",
            Refusal::UnknownKey => "unknown_key",
            Refusal::BadSignature => "bad_signature",
            Refusal::Expired => "expired",
            Refusal::NotYetValid => "not_yet_valid",
            Refusal::ClaimsInvalid => "claims_invalid",
            Refusal::GradeUnmapped => "grade_unmapped",
        }
    }

    /// Every refusal, for documentation and tests.
    pub const ALL: [Refusal; 9] = [
        Refusal::Malformed,
        Refusal::AlgNotAllowed,
        Refusal::UnknownIssuer,
        Refusal::UnknownKey,
        Refusal::BadSignature,
        Refusal::Expired,
        Refusal::NotYetValid,
        Refusal::ClaimsInvalid,
        Refusal::GradeUnmapped,
    ];
}

/// The rules on claims whose signature holds, at `now` (unix seconds):
/// exactly one answer, consistent times, not before `iat` (with
/// [`SKEW_SECONDS`]), before `exp`.
pub fn check_claims(claims: &Claims, now: i64) -> Result<Answer, Refusal> {
    let answer = claims.answer().ok_or(Refusal::ClaimsInvalid)?;
    if claims.iss.trim().is_empty() || claims.sub.trim().is_empty() || claims.exp <= claims.iat {
        return Err(Refusal::ClaimsInvalid);
    }
    if claims.iat > now.saturating_add(SKEW_SECONDS) {
        return Err(Refusal::NotYetValid);
    }
    if now >= claims.exp {
        return Err(Refusal::Expired);
    }
    Ok(answer)
}

/// Whether a signing key retired at `retired_at` (never, if `None`) is still
/// in the published key set at `now`: until every certificate it can have
/// signed has expired (signed at the latest when retired, valid for
/// [`VALIDITY_SECONDS`]).
pub fn still_published(retired_at: Option<i64>, now: i64) -> bool {
    retired_at.is_none_or(|r| now < r.saturating_add(VALIDITY_SECONDS))
}

/// A grade name: 1–16 letters, digits, `+` or `-`.
fn valid_grade_name(g: &str) -> bool {
    !g.is_empty()
        && g.chars().count() <= 16
        && g.chars()
            .all(|c| c.is_alphanumeric() || c == '+' || c == '-')
}

/// A partner city's agreement as registered: the `iss` of its certificates
/// and how its grades translate into ours.
///
/// File format (TOML, or the same as a JSON object):
/// ```toml
/// issuer = "https://chengxin.partner.example"
/// [grades]      # their grade = our grade
/// AAA = "AAA"
/// AA = "AA"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeMap {
    pub issuer: String,
    pub grades: BTreeMap<String, String>,
}

/// Why a grade map file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GradeMapError {
    #[error("等级对照文件无法解析 the grade map is neither valid TOML nor JSON of the documented shape: {0}")]
    Syntax(String),
    #[error("issuer 必须是 http(s) 网址 the issuer must be an http(s) URL: `{0}`")]
    BadIssuer(String),
    #[error("等级对照为空 the grade map maps no grade")]
    Empty,
    #[error("对方等级名称无效 their grade name `{0}` is not 1–16 letters, digits, + or -")]
    BadGrade(String),
    #[error("本市现行模型没有等级 {ours} (对方等级 {theirs}) our model in force has no grade `{ours}` (their `{theirs}` maps to it)")]
    UnknownLocal { theirs: String, ours: String },
}

impl GradeMap {
    /// Parses a grade map file (JSON if it starts with `{`, else TOML) and
    /// checks it: an http(s) issuer, at least one grade, and every one of
    /// their grades mapped to one of `ours` (the grades of the model in
    /// force).
    pub fn parse(text: &str, ours: &[&str]) -> Result<GradeMap, GradeMapError> {
        let map: GradeMap = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| GradeMapError::Syntax(e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| GradeMapError::Syntax(e.message().to_owned()))?
        };
        map.check(ours)?;
        Ok(map)
    }

    /// The checks [`GradeMap::parse`] makes.
    pub fn check(&self, ours: &[&str]) -> Result<(), GradeMapError> {
        let issuer = self.issuer.trim();
        let is_url = ["https://", "http://"]
            .iter()
            .any(|p| issuer.len() > p.len() && issuer.starts_with(p))
            && !issuer.contains(char::is_whitespace);
        if !is_url || issuer != self.issuer {
            return Err(GradeMapError::BadIssuer(self.issuer.clone()));
        }
        if self.grades.is_empty() {
            return Err(GradeMapError::Empty);
        }
        for (theirs, local) in &self.grades {
            if !valid_grade_name(theirs) {
                return Err(GradeMapError::BadGrade(theirs.clone()));
            }
            if !ours.contains(&local.as_str()) {
                return Err(GradeMapError::UnknownLocal {
                    theirs: theirs.clone(),
                    ours: local.clone(),
                });
            }
        }
        Ok(())
    }

    /// Our grade for their `grade`, if the map has it.
    pub fn translate(&self, grade: &str) -> Option<&str> {
        self.grades.get(grade).map(String::as_str)
    }
}

#[cfg(test)]
#[path = "certificate_tests.rs"]
mod tests;
