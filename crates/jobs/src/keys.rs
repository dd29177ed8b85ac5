//! Rotating the data key and the blind index (issue 7, "Keys cannot fork").
//!
//! Design:
//! - **Both keys loaded, one current.** During a rotation the store is
//!   opened with the current key and the next one beside it
//!   ([`chengxin_store::DataKeys::next`]; `CHENGXIN_DATA_KEY_FILE` = current,
//!   `CHENGXIN_DATA_KEY_NEXT_FILE` = next). The database names the next key
//!   (`key_rotation`: id and check value), so a process given no next key or
//!   another one is refused, like a wrong current key.
//! - **Next values beside the current ones.** Each person gets the next key's
//!   blind index (`id_index_next`, UNIQUE) and identity encrypted under the
//!   next key and bound to that index (`id_cipher_next`, `name_cipher_next`);
//!   each record gets its content hash under the next index
//!   (`content_hash_next`, so an identical re-push is still a duplicate after
//!   the change). The current columns are not touched until the switch-over,
//!   so every reader, look-up and push works unchanged meanwhile: `id_index`
//!   stays complete (NOT NULL UNIQUE) for every person up to the switch, and
//!   after it holds the new key's index for every person, so a look-up with
//!   the key a process holds as current always finds the person — no window
//!   in which a person is findable only under the other index, hence no
//!   `OR id_index_next` in the look-ups. Values are opened with whichever key
//!   id their header names, so either key's ciphertext opens while both are
//!   loaded. People created and names changed during the change get their
//!   next values in the same transaction (the store does it when it holds a
//!   next key); records they push are picked up by the re-hash pass.
//! - **Batches, resumable.** One batch is one transaction: up to `batch`
//!   people (decrypted with the current key, re-encrypted with the next),
//!   then up to `batch` records re-hashed. Progress is whatever rows already
//!   have their next values, so a crash loses at most the batch in flight and
//!   running the command again carries on.
//! - **One switch-over.** In one transaction, once no person and no record
//!   lacks its next values (checked inside it; on PostgreSQL under a table
//!   lock so no writer slips a row in between): the next columns replace the
//!   current ones, `key_binding` takes the next key (a trigger allows that
//!   change only to the key `key_rotation` names), the old key is recorded in
//!   `retired_keys` and refused from then on as a different key, naming the
//!   new key's file.
//! - Audited as `data_key.rotation_started` / `data_key.rotation_completed`
//!   by the operator who ran it; entries name key ids, never key material.
//!
//! Not rotated: evidence files keep the key they were sealed with (their
//! headers name it); after the switch-over they no longer open with the new
//! key alone. Audit entries keep naming people by the index they had when
//! written.

use chengxin_domain::audit::AuditEvent;
use chengxin_store::{content_hash, Store};
use serde_json::json;

use crate::uow::write;
use crate::JobError;

/// How a rotation runs.
#[derive(Debug, Clone, Copy)]
pub struct RotateOptions {
    /// People (and records) per transaction.
    pub batch: usize,
    /// Stop after this many batches without switching over (a later run
    /// resumes): to spread the work, and for crash tests.
    pub max_batches: Option<usize>,
}

impl Default for RotateOptions {
    fn default() -> Self {
        RotateOptions {
            batch: 500,
            max_batches: None,
        }
    }
}

/// What a rotation run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotateSummary {
    /// People given next values by this run.
    pub people: u64,
    /// Records re-hashed by this run.
    pub records: u64,
    /// Batches committed by this run.
    pub batches: usize,
    /// The next key is now the database's key.
    pub switched: bool,
    /// Hex ids of the old and the new key.
    pub old_key_id: String,
    pub new_key_id: String,
}

/// Rotates `store`'s data key to the next key it was opened with
/// ([`chengxin_store::open_rotating`]), or resumes a rotation begun before.
/// `key_file`: where the operator keeps the new key (named in messages).
/// After a switch-over the store must be reopened with the new key.
pub fn rotate(
    store: &dyn Store,
    key_file: Option<&str>,
    actor: &str,
    options: RotateOptions,
) -> Result<RotateSummary, JobError> {
    let keys = store.keys();
    let next = keys.next().ok_or_else(|| {
        JobError::Invalid("no next data key loaded: give the key to rotate to".into())
    })?;
    let mut summary = RotateSummary {
        old_key_id: hex::encode(keys.key_id()),
        new_key_id: hex::encode(next.key_id()),
        ..RotateSummary::default()
    };
    let batch = options.batch.max(1);
    // Evidence files are sealed with the data key too, and not re-sealed
    // yet: a rotation would leave them unreadable, so it is refused while
    // any self-report (each has evidence) is stored.
    let reportable: Vec<String> = crate::catalogue::load(&mut *store.read()?)?
        .items
        .iter()
        .filter(|i| i.self_reportable)
        .map(|i| i.code.clone())
        .collect();
    let reports = store
        .read()?
        .submissions(&chengxin_store::uow::SubmissionFilter {
            unit: crate::resident::RESIDENT_SOURCE,
            person_id: None,
            items: &reportable,
            status: None,
            after_id: 0,
            limit: 1,
        })?;
    if !reports.is_empty() {
        return Err(JobError::Invalid(
            "the database holds self-report evidence, which key rotation does not re-encrypt yet: \
             rotating now would make it unreadable, so nothing was changed"
                .into(),
        ));
    }
    write(store, |tx| {
        if tx.rotation()?.is_none() {
            tx.start_rotation(key_file)?;
            tx.append_audit(vec![event(actor, "data_key.rotation_started", &summary)]);
        }
        Ok(())
    })?;
    loop {
        if options.max_batches.is_some_and(|m| summary.batches >= m) {
            return Ok(summary);
        }
        let (people, records) = write(store, |tx| {
            let todo = tx.people_to_rotate(batch)?;
            let indexes: Vec<[u8; 32]> = todo
                .iter()
                .map(|p| next.blind_index(p.id_number.as_str().as_bytes()))
                .collect();
            let rows: Vec<_> = todo
                .iter()
                .zip(&indexes)
                .map(|(p, &i)| (p.person_id, i, &p.id_number, p.name.as_deref()))
                .collect();
            tx.set_next_identities(&rows)?;
            let records = tx.records_to_rehash(batch)?;
            let hashes: Vec<(i64, Vec<u8>)> = records
                .iter()
                .map(|r| (r.record_id, content_hash(&r.item, &r.next_index, &r.fields)))
                .collect();
            tx.set_next_hashes(&hashes)?;
            Ok((todo.len() as u64, records.len() as u64))
        })?;
        summary.people += people;
        summary.records += records;
        if people > 0 || records > 0 {
            summary.batches += 1;
            continue;
        }
        // Nothing left that this pass saw: switch over, unless a writer
        // added a row meanwhile (then another pass picks it up).
        let switched = write(store, |tx| {
            let done = tx.switch_keys()?;
            if done {
                tx.append_audit(vec![event(actor, "data_key.rotation_completed", &summary)]);
            }
            Ok(done)
        })?;
        if switched {
            summary.switched = true;
            return Ok(summary);
        }
    }
}

fn event(actor: &str, action: &str, s: &RotateSummary) -> AuditEvent {
    AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject: Some(format!("data_key:{}", s.new_key_id)),
        person: None,
        request_id: None,
        detail: json!({
            "old_key_id": s.old_key_id,
            "new_key_id": s.new_key_id,
            "people": s.people,
            "records": s.records,
        }),
    }
}
