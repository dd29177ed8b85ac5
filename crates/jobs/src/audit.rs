//! Verifying the audit log's hash chain, signing checkpoints, and recording
//! reads of personal data.

use chengxin_domain::audit::{
    checkpoint_of, checkpoint_request, AuditEvent, Broken, ChainVerifier, Checkpoint,
    CheckpointError,
};
use serde::Serialize;

use crate::{Context, JobError};

mod cover;

/// What a verification found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub entries: i64,
    pub head: String,
    /// Set when a checkpoint was checked.
    pub checkpoint_size: Option<i64>,
    /// Signed checkpoints found in the log, each checked.
    pub signed_checkpoints: i64,
    /// Witness co-signatures on the given checkpoint, each checked.
    pub witnesses: usize,
    /// Record versions found covered by an entry.
    pub records_covered: u64,
    /// Score changes found covered by an entry.
    pub changes_covered: u64,
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
    #[error("the data tables do not agree with the audit log: {0}")]
    Uncovered(String),
    #[error(transparent)]
    Job(#[from] JobError),
}

impl From<chengxin_store::StoreError> for AuditFailure {
    fn from(e: chengxin_store::StoreError) -> Self {
        AuditFailure::Job(e.into())
    }
}

/// Walks the whole chain, checking every signed checkpoint in it against the
/// deployment's audit key (so a rewritten middle, re-hashed and re-signed
/// with any other key, is caught) and that the last one is recent; given a
/// checkpoint handed out earlier (perhaps co-signed by witnesses), also
/// proves the log still extends it (so a cut tail is caught).
pub fn verify(
    ctx: &Context,
    checkpoint: Option<&Checkpoint>,
) -> Result<VerifyReport, AuditFailure> {
    let key = audit_key(ctx)?.verifying_key();
    if let Some(cp) = checkpoint {
        cp.verify_signature(&key)?;
        cp.verify_cosignatures()?;
    }
    ctx.store.seal_audit()?;
    let mut v = ChainVerifier::with_key(key);
    let mut coverage = cover::Coverage::default();
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
            coverage.note(&e.event);
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
    v.finish()?;
    // Entries committed with their change but not yet sealed (PostgreSQL).
    for e in tx.audit_pending()? {
        coverage.note(&e);
    }
    let (records_covered, changes_covered) = coverage.check(&mut *tx)?;
    Ok(VerifyReport {
        records_covered,
        changes_covered,
        entries: v.size,
        head: v.head,
        checkpoint_size: checkpoint.map(|c| c.size),
        signed_checkpoints: v.checkpoints,
        witnesses: checkpoint.map_or(0, |c| c.witnesses.len()),
    })
}

fn audit_key(ctx: &Context) -> Result<&ed25519_dalek::SigningKey, JobError> {
    ctx.store
        .keys()
        .audit_key()
        .ok_or_else(|| JobError::Invalid("no audit key was loaded".into()))
}

/// Writes a signed checkpoint into the log now and returns it: what
/// `audit checkpoint` prints for witnesses.
pub fn checkpoint(ctx: &Context) -> Result<Checkpoint, JobError> {
    crate::uow::write(&*ctx.store, |tx| {
        tx.append_audit(vec![checkpoint_request()]);
        Ok(())
    })?;
    ctx.store.seal_audit()?;
    latest_checkpoint(ctx)?.ok_or_else(|| JobError::Invalid("no checkpoint was written".into()))
}

/// The latest signed checkpoint in the log (public: sizes and hashes only).
pub fn latest_checkpoint(ctx: &Context) -> Result<Option<Checkpoint>, JobError> {
    let entry = ctx.store.read()?.audit_last_checkpoint()?;
    Ok(entry.as_ref().and_then(checkpoint_of))
}

/// A witness's co-signature of a checkpoint with the witness's key `seed`
/// (offline: no database).
pub fn witness(cp: &mut Checkpoint, seed: &[u8; 32]) -> Result<(), CheckpointError> {
    let key = ed25519_dalek::SigningKey::from_bytes(seed);
    cp.cosign(&key, jiff::Timestamp::now().to_string())
}

/// Records that `actor` looked a person up by ID number and found no one:
/// whether the platform knows someone is itself personal data. The entry
/// names the number by its blind index, as any other.
pub fn record_not_found(
    ctx: &Context,
    actor: &str,
    id: &chengxin_domain::IdNumber,
    request_id: Option<&str>,
    what: &str,
) -> Result<(), JobError> {
    let index = ctx.store.keys().blind_index(id.as_str().as_bytes());
    ctx.store.append_reads(vec![AuditEvent {
        actor: actor.to_owned(),
        action: "person.read".into(),
        subject: None,
        person: Some(chengxin_store::person_ref(&index)),
        request_id: request_id.map(str::to_owned),
        detail: serde_json::json!({ "what": what, "found": false }),
    }])?;
    Ok(())
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

/// A read's answer with its audit entry queued: the answer is handed out
/// only once the entry is durable, either to a blocking caller
/// ([`Audited::wait`]) or to an async one ([`Audited::durable`], which
/// holds no thread while the entry's group commits).
#[must_use = "the answer is available only once its audit entry is durable"]
pub struct Audited<T> {
    value: T,
    durable: chengxin_store::Durable,
}

impl<T> Audited<T> {
    /// Blocks until the audit entry is durable, then gives the answer.
    pub fn wait(self) -> Result<T, JobError> {
        self.durable.wait()?;
        Ok(self.value)
    }

    /// Waits for the audit entry without holding a thread, then gives the answer.
    pub async fn durable(self) -> Result<T, JobError> {
        self.durable.await?;
        Ok(self.value)
    }
}

/// Queues the entry of `actor` reading a person's data (as
/// [`record_read_of`]) and ties `value` to it.
pub fn audited_read_of<T>(
    ctx: &Context,
    value: T,
    actor: &str,
    person_index: &[u8],
    person_id: Option<i64>,
    request_id: Option<&str>,
    what: &str,
) -> Audited<T> {
    let durable = ctx.store.enqueue_reads(vec![read_event(
        actor,
        person_index,
        person_id,
        request_id,
        what,
    )]);
    Audited { value, durable }
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

/// Records that staff member `actor` looked ONE person up by ID number in
/// the console for `purpose` (e.g. a case number), found (`person_id`) or
/// not: a read of personal data like [`record_read_of`], with the purpose.
pub fn record_lookup(
    ctx: &Context,
    actor: &str,
    person_index: &[u8],
    person_id: Option<i64>,
    request_id: Option<&str>,
    purpose: &str,
) -> Result<(), JobError> {
    let mut e = read_event(actor, person_index, person_id, request_id, "lookup");
    e.detail = serde_json::json!({
        "what": "lookup",
        "purpose": purpose,
        "found": person_id.is_some(),
    });
    ctx.store.append_reads(vec![e])?;
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
