//! Verifying the audit log's hash chain, signing checkpoints, and recording
//! reads of personal data.

use chengxin_domain::audit::{AuditEvent, Broken, ChainVerifier, Checkpoint, CheckpointError};
use serde::Serialize;

use crate::{Context, JobError};

/// What a verification found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub entries: i64,
    pub head: String,
    /// Set when a checkpoint was checked.
    pub checkpoint_size: Option<i64>,
}

/// Why the log does not verify.
#[derive(Debug, thiserror::Error)]
pub enum AuditFailure {
    #[error(transparent)]
    Broken(#[from] Broken),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("the log ends at entry {entries} with hash {found}, but its recorded head is entry {head_seq}: entries were removed from the end")]
    HeadMismatch {
        entries: i64,
        found: String,
        head_seq: i64,
    },
    #[error(transparent)]
    Job(#[from] JobError),
}

impl From<chengxin_store::StoreError> for AuditFailure {
    fn from(e: chengxin_store::StoreError) -> Self {
        AuditFailure::Job(e.into())
    }
}

/// Walks the whole chain (and, given a checkpoint, proves the log still extends it).
pub fn verify(
    ctx: &Context,
    checkpoint: Option<&Checkpoint>,
) -> Result<VerifyReport, AuditFailure> {
    if let Some(cp) = checkpoint {
        cp.verify_signature(&ctx.store.keys().audit_signing_key().verifying_key())?;
    }
    ctx.store.seal_audit()?;
    let mut v = ChainVerifier::default();
    let mut at_checkpoint: Option<String> = None;
    // One snapshot: entries appended meanwhile are neither walked nor counted.
    let mut tx = ctx.store.snapshot()?;
    loop {
        let page = tx.audit_entries(v.size, 10_000)?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            v.push(e)?;
            if checkpoint.is_some_and(|cp| cp.size == e.seq) {
                at_checkpoint = Some(e.hash.clone());
            }
        }
    }
    let (head_seq, head_hash) = tx.audit_head()?;
    if head_seq != v.size || head_hash != v.head {
        return Err(AuditFailure::HeadMismatch {
            entries: v.size,
            found: v.head,
            head_seq,
        });
    }
    if let Some(cp) = checkpoint {
        if v.size < cp.size {
            return Err(CheckpointError::Truncated {
                have: v.size,
                want: cp.size,
            }
            .into());
        }
        if cp.size > 0 && at_checkpoint.as_deref() != Some(cp.head.as_str()) {
            return Err(CheckpointError::Rewritten { size: cp.size }.into());
        }
    }
    Ok(VerifyReport {
        entries: v.size,
        head: v.head,
        checkpoint_size: checkpoint.map(|c| c.size),
    })
}

/// A signed checkpoint of the log as it stands.
pub fn checkpoint(ctx: &Context) -> Result<Checkpoint, JobError> {
    ctx.store.seal_audit()?;
    let (size, head) = ctx.store.read()?.audit_head()?;
    Ok(Checkpoint::sign(
        &ctx.store.keys().audit_signing_key(),
        size,
        &head,
        jiff::Timestamp::now().to_string(),
    ))
}

/// Records that `actor` read a person's data (named by blind index). Returns
/// once the entry is durable; concurrent reads share one commit.
pub fn record_read(
    ctx: &Context,
    actor: &str,
    person_index: &[u8],
    person_id: i64,
    request_id: Option<&str>,
    what: &str,
) -> Result<(), JobError> {
    record_read_of(ctx, actor, person_index, Some(person_id), request_id, what)
}

/// The audit event of `actor` reading a person's data.
fn read_event(
    actor: &str,
    person_index: &[u8],
    person_id: Option<i64>,
    request_id: Option<&str>,
    what: &str,
) -> AuditEvent {
    AuditEvent {
        actor: actor.to_owned(),
        action: "person.read".into(),
        subject: person_id.map(|id| format!("person:{id}")),
        person: Some(chengxin_store::person_ref(person_index)),
        request_id: request_id.map(str::to_owned),
        detail: serde_json::json!({ "what": what }),
    }
}

/// [`record_read`] where the person may be unknown to the platform (a
/// resident looking themselves up before any record exists): the entry
/// then names them by blind index only, with no subject.
pub fn record_read_of(
    ctx: &Context,
    actor: &str,
    person_index: &[u8],
    person_id: Option<i64>,
    request_id: Option<&str>,
    what: &str,
) -> Result<(), JobError> {
    ctx.store.append_reads(vec![read_event(
        actor,
        person_index,
        person_id,
        request_id,
        what,
    )])?;
    Ok(())
}

/// Records that `actor` read the data of each of `people` (blind index,
/// person id) in one request: one entry per person, made durable together.
pub fn record_reads(
    ctx: &Context,
    actor: &str,
    people: &[(&[u8], i64)],
    request_id: Option<&str>,
    what: &str,
) -> Result<(), JobError> {
    if people.is_empty() {
        return Ok(());
    }
    ctx.store.append_reads(
        people
            .iter()
            .map(|&(index, id)| read_event(actor, index, Some(id), request_id, what))
            .collect(),
    )?;
    Ok(())
}

/// Up to `limit` entries after `after_seq`, once the entries committed so
/// far are sealed into the chain.
pub fn entries_after(
    ctx: &Context,
    after_seq: i64,
    limit: usize,
) -> Result<Vec<chengxin_domain::audit::AuditEntry>, JobError> {
    ctx.store.seal_audit()?;
    Ok(ctx.store.read()?.audit_entries(after_seq, limit)?)
}

/// How many entries the log holds, once sealed.
pub fn size(ctx: &Context) -> Result<i64, JobError> {
    ctx.store.seal_audit()?;
    Ok(ctx.store.read()?.audit_head()?.0)
}
