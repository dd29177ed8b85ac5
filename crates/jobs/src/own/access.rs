//! `GET /me/access-log`: every read or change of the resident's data by
//! anyone else, from the audit log, with who did it and why.

use std::collections::BTreeMap;

use chengxin_domain::audit::AuditEntry;
use chengxin_domain::IdNumber;
use serde::Serialize;

use crate::{Context, JobError};

/// Most entries one answer lists (the newest).
pub const MAX_ENTRIES: usize = 1_000;

/// One access by someone other than the resident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Access {
    /// RFC 3339.
    pub at: String,
    /// `unit`, `operator`, `staff`, `party`, `partner`, `system`.
    pub actor_kind: String,
    /// The actor's name as the resident should read it.
    pub actor: String,
    /// The action code, e.g. `person.read`, `record.accepted`.
    pub action: String,
    /// Why, in Chinese and English.
    pub purpose: String,
    /// The audit entry's place in the log, to cite in an objection.
    pub seq: i64,
}

/// Who else read or changed the resident's data, newest first; audited.
pub fn access_log(
    ctx: &Context,
    id: &IdNumber,
    limit: usize,
    request_id: Option<&str>,
) -> Result<Vec<Access>, JobError> {
    let (index, person) = super::find(ctx, id)?;
    let out = entries(ctx, &index, limit)?;
    super::audit_own_read(ctx, &index, person, request_id, "access log")?;
    Ok(out)
}

/// Accesses by others to the person with this blind index, newest first.
pub(crate) fn entries(ctx: &Context, index: &[u8], limit: usize) -> Result<Vec<Access>, JobError> {
    // Entries of reads and writes still waiting to be chained are sealed
    // first, so the answer includes everything committed so far.
    ctx.store.seal_audit()?;
    let me = super::actor(index);
    let (entries, names) = {
        let mut tx = ctx.store.snapshot()?;
        let entries = tx.person_audit(
            &chengxin_store::person_ref(index),
            &me,
            limit.clamp(1, MAX_ENTRIES),
        )?;
        let mut names: BTreeMap<String, String> = tx
            .units()?
            .into_iter()
            .map(|u| (format!("unit:{}", u.code), u.name))
            .collect();
        names.extend(
            tx.parties()?
                .into_iter()
                .map(|p| (format!("party:{}", p.code), p.name)),
        );
        (entries, names)
    };
    let out = entries
        .iter()
        .filter(|e| e.event.actor != me)
        .map(|e| access(e, &names))
        .collect();
    Ok(out)
}

/// `names`: units' and parties' names by their actor (`unit:CODE`, `party:CODE`).
fn access(e: &AuditEntry, names: &BTreeMap<String, String>) -> Access {
    let (kind, who) = e
        .event
        .actor
        .split_once(':')
        .unwrap_or((e.event.actor.as_str(), ""));
    let actor = match kind {
        "unit" | "party" => match names.get(&e.event.actor) {
            Some(name) => format!("{name}（{who}）"),
            None => who.to_owned(),
        },
        "operator" => format!("信用工作机构操作员 agency operator {who}"),
        "staff" => format!("信用工作机构工作人员 agency staff {who}"),
        "system" => "诚信分平台 the platform".to_owned(),
        _ => e.event.actor.clone(),
    };
    Access {
        at: e.at.clone(),
        actor_kind: kind.to_owned(),
        actor,
        action: e.event.action.clone(),
        purpose: purpose(e),
        seq: e.seq,
    }
}

/// The purpose of an access: what the reader declared, else what the action is.
fn purpose(e: &AuditEntry) -> String {
    let declared = ["purpose", "what"]
        .iter()
        .find_map(|k| e.event.detail.get(k).and_then(|v| v.as_str()));
    let (zh, en) = match e.event.action.as_str() {
        "person.read" => ("查询您的信息", "read your data"),
        "record.accepted" | "records.ingested" => ("报送信息", "reported information"),
        "record.corrected" => ("更正信息", "corrected information"),
        "record.withdrawn" => ("撤回信息", "withdrew information"),
        "score.changed" => ("诚信分变动", "your score changed"),
        "authorisation.used" => (
            "凭您的授权查询诚信分",
            "read your score under your authorisation",
        ),
        "authorisation.redeemed" => ("领取您的授权", "redeemed your authorisation"),
        "authorisation.use_refused" => (
            "凭您的授权查询被拒绝",
            "a read under your authorisation was refused",
        ),
        "authorisation.refused" => ("拒绝您的授权请求", "refused your grant"),
        a if a.starts_with("record.") => ("处理信息", "handled a record"),
        _ => ("其他操作", "other operation"),
    };
    match declared {
        Some(d) => format!("{zh}：{d} / {en}: {d}"),
        None => format!("{zh} / {en}"),
    }
}
