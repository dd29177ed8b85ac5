//! `GET /me/history` and `GET /me/notifications`: every change of the
//! resident's score under a published model, oldest first, and the same
//! changes told as notifications with their cause, in Chinese and English.

use chengxin_domain::IdNumber;
use chengxin_store::{Cause, HistoryEntry};
use serde::Serialize;

use crate::{Context, JobError};

/// One change of the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoreChange {
    /// When it was stored (RFC 3339).
    pub at: String,
    pub score: Option<i32>,
    pub grade: Option<String>,
    pub model_version: String,
    /// `import`, `push`, `withdraw`, `model_publish`, `recompute`, `decision`,
    /// `commitment`, `self_report`, `repaired`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "push"))]
    pub cause: Cause,
    pub eligible: bool,
    /// The date the score was computed as of.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub as_of: jiff::civil::Date,
}

/// A score change told to the resident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub at: String,
    /// The cause, as in [`ScoreChange::cause`].
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "push"))]
    pub kind: Cause,
    pub text_zh: String,
    pub text_en: String,
    pub score_before: Option<i32>,
    pub score_after: Option<i32>,
    pub model_version: String,
}

fn read(
    ctx: &Context,
    id: &IdNumber,
    request_id: Option<&str>,
    what: &str,
) -> Result<Vec<HistoryEntry>, JobError> {
    let (index, person) = super::find(ctx, id)?;
    let entries = match person {
        Some(p) => ctx.store.read()?.score_history(p)?,
        None => Vec::new(),
    };
    super::audit_own_read(ctx, &index, person, request_id, what)?;
    Ok(entries)
}

/// The resident's score history, oldest first; audited.
pub fn history(
    ctx: &Context,
    id: &IdNumber,
    request_id: Option<&str>,
) -> Result<Vec<ScoreChange>, JobError> {
    Ok(read(ctx, id, request_id, "score history")?
        .into_iter()
        .map(|h| ScoreChange {
            at: h.changed_at,
            score: h.state.score,
            grade: h.state.grade,
            model_version: h.model_version,
            cause: h.cause,
            eligible: h.state.eligible,
            as_of: h.as_of,
        })
        .collect())
}

/// The resident's notifications, newest first; audited.
pub fn notifications(
    ctx: &Context,
    id: &IdNumber,
    request_id: Option<&str>,
) -> Result<Vec<Notification>, JobError> {
    let entries = read(ctx, id, request_id, "notifications")?;
    let mut out = Vec::with_capacity(entries.len());
    let mut before: Option<&HistoryEntry> = None;
    for h in &entries {
        out.push(notification(before, h));
        before = Some(h);
    }
    out.reverse();
    Ok(out)
}

/// The words for one change.
pub(crate) fn notification(before: Option<&HistoryEntry>, h: &HistoryEntry) -> Notification {
    let (why_zh, why_en) = cause_text(h.cause, &h.model_version);
    let score_before = before.and_then(|b| b.state.score);
    let after = &h.state;
    let (what_zh, what_en) = match (score_before, after.score) {
        (_, None) => (
            "您目前没有诚信分（不符合评价条件）".to_owned(),
            "You have no integrity score at present (not eligible)".to_owned(),
        ),
        (None, Some(s)) => (
            format!("您的诚信分为{s}分（{}级）", grade(after)),
            format!("Your integrity score is {s} (grade {})", grade(after)),
        ),
        (Some(b), Some(s)) => (
            format!("您的诚信分由{b}分变为{s}分（{}级）", grade(after)),
            format!(
                "Your integrity score changed from {b} to {s} (grade {})",
                grade(after)
            ),
        ),
    };
    Notification {
        at: h.changed_at.clone(),
        kind: h.cause,
        text_zh: format!("{what_zh}。原因：{why_zh}。"),
        text_en: format!("{what_en}. Cause: {why_en}."),
        score_before,
        score_after: after.score,
        model_version: h.model_version.clone(),
    }
}

fn grade(s: &chengxin_store::ScoreState) -> &str {
    s.grade.as_deref().unwrap_or("-")
}

fn cause_text(cause: Cause, model: &str) -> (String, String) {
    match cause {
        Cause::Push => (
            "协同单位报送了关于您的信息".into(),
            "a cooperating unit reported information about you".into(),
        ),
        Cause::Import => (
            "协同单位批量报送的信息已入库".into(),
            "information reported in bulk by cooperating units was loaded".into(),
        ),
        Cause::Withdraw => (
            "协同单位撤回了一条关于您的信息".into(),
            "a cooperating unit withdrew a record about you".into(),
        ),
        Cause::Decision => (
            "关于您信息的一项决定已作出（异议、信用修复或自主申报核实）".into(),
            "a decision on your records was made (objection, credit repair or verification of a self-report)".into(),
        ),
        Cause::Window => (
            "一条信息进入或离开了计分期限（如行政处罚公示期届满、信用承诺期满、评价结果超过有效期或移出名单）".into(),
            "a record entered or left its counting period (for example a penalty's publicity period ended, a commitment's term ended, an evaluation aged out or a listing was removed)".into(),
        ),
        Cause::Commitment => (
            "您签署了一项信用承诺".into(),
            "you signed a credit commitment".into(),
        ),
        Cause::SelfReport => (
            "您自主申报的信息已核实".into(),
            "information you reported yourself was verified".into(),
        ),
        Cause::Objection => (
            "您的异议经审核，相关信息已更正或撤回".into(),
            "your objection was decided and the record was corrected or withdrawn".into(),
        ),
        Cause::Repaired => (
            "您的信用修复申请已获批准，相关信息不再计入诚信分".into(),
            "your credit repair application was approved; the record no longer counts".into(),
        ),
        Cause::ModelPublish => (
            format!("新版评分模型{model}开始施行"),
            format!("score model {model} came into force"),
        ),
        Cause::Recompute => (
            "定期重新计算（信息进入或超出计分期限）".into(),
            "a periodic recalculation (records entered or left their counting period)".into(),
        ),
    }
}
