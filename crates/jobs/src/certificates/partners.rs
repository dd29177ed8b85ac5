//! Partner cities (第二十三条): their key set and grade map, registered by
//! an operator, so that their certificates verify here with our grades.

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::certificate::GradeMap;
use chengxin_store::uow::PartnerRow;
use serde::Serialize;

use super::verify::KeySet;
use crate::{Context, JobError};

/// A registered partner city, as `partner list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partner {
    pub code: String,
    pub name: String,
    pub issuer: String,
    /// Key ids of its key set.
    pub kids: Vec<String>,
    /// Their grade → our grade.
    pub grades: std::collections::BTreeMap<String, String>,
    /// Unix seconds.
    pub updated_at: i64,
}

fn invalid(e: impl std::fmt::Display) -> JobError {
    JobError::Invalid(e.to_string())
}

/// Registers (or replaces) partner city `code` at `now` (unix seconds):
/// its key set (a JWKS of Ed25519 keys) and its grade map (TOML or JSON,
/// see [`GradeMap`]), checked against the grades of our model in force.
pub fn add_partner(
    ctx: &Context,
    code: &str,
    name: &str,
    jwks: &str,
    grade_map: &str,
    now: i64,
) -> Result<(Partner, bool), JobError> {
    let code_ok = !code.is_empty()
        && code.len() <= 32
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !code_ok {
        return Err(invalid(format!(
            "城市代码无效 city code `{code}` must be 1–32 of a–z, 0–9 and -"
        )));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("城市名称无效 the name must be 1–100 characters"));
    }
    let (keys, _) = KeySet::parse(jwks).map_err(|e| invalid(format!("密钥集无效 key set: {e}")))?;
    let model = crate::model_in_force(ctx)?;
    let engine = ctx.scorer(model)?.engine;
    let ours: Vec<&str> = engine
        .model()
        .doc
        .grades
        .iter()
        .map(|g| g.grade.as_str())
        .collect();
    let map = GradeMap::parse(grade_map, &ours).map_err(invalid)?;
    if map.issuer == ctx.certificates().city_url {
        return Err(invalid(format!(
            "issuer {} is this city's own URL (本市), not a partner's",
            map.issuer
        )));
    }
    let row = PartnerRow {
        code: code.to_owned(),
        name: name.to_owned(),
        issuer: map.issuer.clone(),
        jwks: serde_json::to_string(&keys).map_err(invalid)?,
        grade_map: serde_json::to_string(&map).map_err(invalid)?,
        created_at: now,
        updated_at: now,
    };
    let actor = ctx.actor().to_owned();
    let created = crate::uow::write(&*ctx.store, |tx| {
        if let Some(other) = tx.partner_by_issuer(&row.issuer)? {
            if other.code != row.code {
                return Err(invalid(format!(
                    "issuer {} is already registered as partner {}",
                    row.issuer, other.code
                )));
            }
        }
        let created = tx.put_partner(&row)?;
        tx.append_audit(vec![AuditEvent {
            actor: actor.clone(),
            action: if created { "partner.added" } else { "partner.updated" }.into(),
            subject: Some(format!("partner:{}", row.code)),
            person: None,
            request_id: None,
            detail: serde_json::json!({ "issuer": row.issuer, "kids": keys.keys.iter().map(|k| &k.kid).collect::<Vec<_>>() }),
        }]);
        Ok(created)
    })?;
    Ok((partner(&row, &keys, map), created))
}

/// Every registered partner city, by code.
pub fn list_partners(ctx: &Context) -> Result<Vec<Partner>, JobError> {
    ctx.store
        .read()?
        .partners()?
        .iter()
        .map(|row| {
            let (keys, _) = KeySet::parse(&row.jwks).map_err(invalid)?;
            let map: GradeMap = serde_json::from_str(&row.grade_map).map_err(invalid)?;
            Ok(partner(row, &keys, map))
        })
        .collect()
}

fn partner(row: &PartnerRow, keys: &super::Jwks, map: GradeMap) -> Partner {
    Partner {
        code: row.code.clone(),
        name: row.name.clone(),
        issuer: row.issuer.clone(),
        kids: keys.keys.iter().map(|k| k.kid.clone()).collect(),
        grades: map.grades,
        updated_at: row.updated_at,
    }
}
