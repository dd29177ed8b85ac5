//! `GET /me/export`: everything held about the resident in one JSON
//! document (PIPL Art. 45): identity, score and explanation, every record
//! version, score history, commitments, self-reports (evidence by hash),
//! credit-repair applications, notifications and who else accessed their data.

use chengxin_domain::IdNumber;
use jiff::civil::Date;

use crate::score::load;
use crate::{Context, JobError};

/// The export document; audited as one read.
pub fn export(
    ctx: &Context,
    id: &IdNumber,
    as_of: Date,
    request_id: Option<&str>,
) -> Result<serde_json::Value, JobError> {
    let invalid = |e: serde_json::Error| JobError::Invalid(e.to_string());
    let exported_at = jiff::Timestamp::now().to_string();
    let Some(x) = load(ctx, id, as_of, true)? else {
        let (index, _) = super::find(ctx, id)?;
        super::audit_own_read(ctx, &index, None, request_id, "export")?;
        return Ok(serde_json::json!({
            "exported_at": exported_at,
            "id_number": id.as_str(),
            "held": false,
            "note_zh": "本平台未保存关于您的任何信息。",
            "note_en": "The platform holds no data about you.",
        }));
    };
    let (identity, commitments, self_reports, repairs) = {
        let mut tx = ctx.store.snapshot()?;
        (
            tx.identity(x.person_id)?,
            crate::commitments::of_person(ctx, &mut *tx, x.person_id)?,
            crate::self_reports::of_person(ctx, &mut *tx, x.person_id)?,
            crate::repairs::of_person(&mut *tx, x.person_id)?,
        )
    };
    let mut notes = Vec::with_capacity(x.history.len());
    let mut before = None;
    for h in &x.history {
        notes.push(super::history::notification(before, h));
        before = Some(h);
    }
    let doc = serde_json::json!({
        "exported_at": exported_at,
        "held": true,
        "id_number": id.as_str(),
        "name": identity.and_then(|i| i.name),
        "score": x.json(id),
        "what_if": serde_json::to_value(super::what_if::what_if(ctx, &x)).map_err(invalid)?,
        "records": serde_json::to_value(super::records::build(ctx, &x, as_of)?).map_err(invalid)?,
        "history": serde_json::to_value(&x.history).map_err(invalid)?,
        "commitments": serde_json::to_value(&commitments).map_err(invalid)?,
        "self_reports": serde_json::to_value(&self_reports).map_err(invalid)?,
        "repairs": serde_json::to_value(&repairs).map_err(invalid)?,
        "notifications": serde_json::to_value(&notes).map_err(invalid)?,
        "access_log": serde_json::to_value(super::access::entries(
            ctx,
            &x.index,
            super::access::MAX_ENTRIES,
        )?)
        .map_err(invalid)?,
    });
    super::audit_own_read(ctx, &x.index, Some(x.person_id), request_id, "export")?;
    Ok(doc)
}
