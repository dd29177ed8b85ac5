//! The audit log's integrity rules: each entry's hash covers its content and
//! the previous entry's hash (a chain), and signed checkpoints pin a size and
//! head so that truncation and wholesale rewriting are caught too.

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The action of a signed checkpoint written into the log itself.
pub const CHECKPOINT_ACTION: &str = "audit.checkpoint";

/// At most this many entries follow a signed checkpoint before the next one
/// is written: the appender signs after every this many entries, so a log
/// whose last signed checkpoint lies further back was cut or rewritten.
pub const CHECKPOINT_EVERY: i64 = 1000;

/// The hash that precedes the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Something that happened, before it is placed in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Who: `unit:SX-TAX`, `operator:cli`, `system`, `resident:<blind index>`.
    pub actor: String,
    /// What: `record.accepted`, `score.changed`, `unit.key_rotated`, `person.read`, …
    pub action: String,
    /// The object acted on, e.g. `record:123` or `unit:SX-TAX`.
    pub subject: Option<String>,
    /// The person concerned, as the hex blind index (never the ID number).
    pub person: Option<String>,
    pub request_id: Option<String>,
    /// Details (never personal data in clear).
    pub detail: serde_json::Value,
}

/// An entry as stored: the event, its place and its hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    /// RFC 3339 UTC.
    pub at: String,
    pub prev_hash: String,
    pub hash: String,
    #[serde(flatten)]
    pub event: AuditEvent,
}

#[derive(Serialize)]
struct Hashed<'a> {
    seq: i64,
    at: &'a str,
    prev: &'a str,
    actor: &'a str,
    action: &'a str,
    subject: Option<&'a str>,
    person: Option<&'a str>,
    request_id: Option<&'a str>,
    detail: &'a serde_json::Value,
}

/// The hash of an entry with this place, time, predecessor and content.
pub fn entry_hash(seq: i64, at: &str, prev: &str, e: &AuditEvent) -> String {
    let h = Hashed {
        seq,
        at,
        prev,
        actor: &e.actor,
        action: &e.action,
        subject: e.subject.as_deref(),
        person: e.person.as_deref(),
        request_id: e.request_id.as_deref(),
        detail: &e.detail,
    };
    let bytes = serde_json::to_vec(&h).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// Places an event after `(prev_seq, prev_hash)`.
pub fn chain(prev_seq: i64, prev_hash: &str, at: String, event: AuditEvent) -> AuditEntry {
    let seq = prev_seq + 1;
    let hash = entry_hash(seq, &at, prev_hash, &event);
    AuditEntry {
        seq,
        at,
        prev_hash: prev_hash.to_owned(),
        hash,
        event,
    }
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq} is broken: {reason}")]
pub struct Broken {
    pub seq: i64,
    pub reason: String,
}

/// Walks entries in order, checking each against its predecessor and every
/// checkpoint written into the log against the deployment's audit key.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    pub size: i64,
    pub head: String,
    /// The last entry that is a valid signed checkpoint (0: none yet).
    pub last_checkpoint: i64,
    /// Signed checkpoints seen.
    pub checkpoints: i64,
    key: Option<VerifyingKey>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            size: 0,
            head: GENESIS.to_owned(),
            last_checkpoint: 0,
            checkpoints: 0,
            key: None,
        }
    }
}

impl ChainVerifier {
    /// A verifier that also checks the checkpoints in the log against `key`.
    pub fn with_key(key: VerifyingKey) -> ChainVerifier {
        ChainVerifier {
            key: Some(key),
            ..ChainVerifier::default()
        }
    }

    /// Checks the next entry.
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), Broken> {
        let broken = |reason: String| Broken { seq: e.seq, reason };
        if e.seq != self.size + 1 {
            return Err(broken(format!(
                "expected entry {} here (missing, moved or reordered)",
                self.size + 1
            )));
        }
        if e.prev_hash != self.head {
            return Err(broken("it does not follow the entry before it".into()));
        }
        if entry_hash(e.seq, &e.at, &e.prev_hash, &e.event) != e.hash {
            return Err(broken(
                "its content does not match its hash (edited)".into(),
            ));
        }
        if e.event.action == CHECKPOINT_ACTION {
            if let Some(key) = &self.key {
                let cp: Checkpoint = serde_json::from_value(e.event.detail.clone())
                    .map_err(|_| broken("it is a checkpoint without a signature".into()))?;
                if cp.size != e.seq - 1 || cp.head != e.prev_hash {
                    return Err(broken(format!(
                        "its signed checkpoint vouches for entry {} with another hash: the log before it was rewritten",
                        cp.size
                    )));
                }
                cp.verify_signature(key).map_err(|err| {
                    broken(format!(
                        "its checkpoint is not signed by this deployment's audit key ({err}): the log was rewritten and re-signed"
                    ))
                })?;
                self.last_checkpoint = e.seq;
                self.checkpoints += 1;
            }
        }
        self.size = e.seq;
        self.head.clone_from(&e.hash);
        Ok(())
    }

    /// After the last entry: no more than [`CHECKPOINT_EVERY`] entries may
    /// follow the last signed checkpoint (only when checking signatures).
    pub fn finish(&self) -> Result<(), Broken> {
        if self.key.is_some() && self.size - self.last_checkpoint > CHECKPOINT_EVERY {
            return Err(Broken {
                seq: self.last_checkpoint + 1,
                reason: format!(
                    "entries {}–{} are covered by no signed checkpoint (one is written every {CHECKPOINT_EVERY} entries): checkpoints were removed or the log rewritten",
                    self.last_checkpoint + 1,
                    self.size
                ),
            });
        }
        Ok(())
    }
}

/// Places events in the chain after `(seq, hash)`, writing a signed
/// checkpoint after every [`CHECKPOINT_EVERY`] entries and wherever an
/// event asks for one ([`checkpoint_request`]). Both backends chain through it.
pub struct Appender<'k> {
    pub seq: i64,
    pub hash: String,
    /// The last checkpoint entry (0: none).
    pub last_checkpoint: i64,
    key: &'k SigningKey,
}

impl<'k> Appender<'k> {
    /// An appender after the stored head.
    pub fn new(seq: i64, hash: String, last_checkpoint: i64, key: &'k SigningKey) -> Self {
        Appender {
            seq,
            hash,
            last_checkpoint,
            key,
        }
    }

    fn place(&mut self, at: String, event: AuditEvent, out: &mut Vec<AuditEntry>) {
        let e = chain(self.seq, &self.hash, at, event);
        self.seq = e.seq;
        self.hash.clone_from(&e.hash);
        out.push(e);
    }

    fn sign_here(&mut self, at: String, out: &mut Vec<AuditEntry>) {
        let cp = Checkpoint::sign(self.key, self.seq, &self.hash, at.clone());
        let event = AuditEvent {
            actor: "system".into(),
            action: CHECKPOINT_ACTION.into(),
            subject: None,
            person: None,
            request_id: None,
            detail: serde_json::to_value(&cp).unwrap_or_default(),
        };
        self.place(at, event, out);
        self.last_checkpoint = self.seq;
    }

    /// Chains `event` (or, for a checkpoint request, a signed checkpoint),
    /// then a checkpoint if one is due.
    pub fn push(&mut self, at: String, event: AuditEvent, out: &mut Vec<AuditEntry>) {
        if is_checkpoint_request(&event) {
            self.sign_here(at, out);
            return;
        }
        self.place(at.clone(), event, out);
        if self.seq - self.last_checkpoint >= CHECKPOINT_EVERY {
            self.sign_here(at, out);
        }
    }
}

/// An event asking the appender to write a signed checkpoint where it lands.
pub fn checkpoint_request() -> AuditEvent {
    AuditEvent {
        actor: "system".into(),
        action: CHECKPOINT_ACTION.into(),
        subject: None,
        person: None,
        request_id: None,
        detail: serde_json::Value::Null,
    }
}

fn is_checkpoint_request(e: &AuditEvent) -> bool {
    e.action == CHECKPOINT_ACTION && e.detail.is_null()
}

/// The signed checkpoint an entry holds, if it is one.
pub fn checkpoint_of(e: &AuditEntry) -> Option<Checkpoint> {
    if e.event.action != CHECKPOINT_ACTION {
        return None;
    }
    serde_json::from_value(e.event.detail.clone()).ok()
}

/// A signed statement of the log's size and head hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub size: i64,
    pub head: String,
    pub signed_at: String,
    /// Ed25519 public key, base64.
    pub public_key: String,
    /// Ed25519 signature over [`Checkpoint::message`], base64.
    pub signature: String,
    /// Co-signatures of witnesses (partner cities, auditors) that saw it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<Cosignature>,
}

/// A witness's signature over a checkpoint: "I saw this log at this size
/// with this head, signed by this key".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cosignature {
    /// The witness's Ed25519 public key, base64.
    pub public_key: String,
    pub signed_at: String,
    /// Ed25519 signature over [`Checkpoint::cosigned_message`], base64.
    pub signature: String,
}

/// Why a checkpoint is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the checkpoint is not signed by this deployment's audit key")]
    WrongKey,
    #[error("the checkpoint's signature is invalid")]
    BadSignature,
    #[error("the co-signature of witness {0} is invalid")]
    BadCosignature(String),
    #[error("the log has {have} entries but the checkpoint vouches for {want}: it was truncated")]
    Truncated { have: i64, want: i64 },
    #[error(
        "entry {size} no longer has the hash the checkpoint vouches for: the log was rewritten"
    )]
    Rewritten { size: i64 },
}

impl Checkpoint {
    fn message(size: i64, head: &str, signed_at: &str) -> Vec<u8> {
        format!("chengxin-audit-checkpoint\n{size}\n{head}\n{signed_at}").into_bytes()
    }

    fn cosigned_message(&self, witness_key: &str, signed_at: &str) -> Vec<u8> {
        format!(
            "chengxin-audit-cosignature\n{}\n{}\n{}\n{witness_key}\n{signed_at}",
            self.size, self.head, self.public_key
        )
        .into_bytes()
    }

    /// Adds a witness's co-signature. The witness first checks that the
    /// checkpoint is signed by the key it names.
    pub fn cosign(
        &mut self,
        witness: &SigningKey,
        signed_at: String,
    ) -> Result<(), CheckpointError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let own = decode_key(&self.public_key).ok_or(CheckpointError::BadSignature)?;
        self.verify_signature(&own)?;
        let public_key = b64.encode(witness.verifying_key().as_bytes());
        let sig = witness.sign(&self.cosigned_message(&public_key, &signed_at));
        self.witnesses.retain(|w| w.public_key != public_key);
        self.witnesses.push(Cosignature {
            public_key,
            signed_at,
            signature: b64.encode(sig.to_bytes()),
        });
        Ok(())
    }

    /// Checks every witness's co-signature.
    pub fn verify_cosignatures(&self) -> Result<(), CheckpointError> {
        for w in &self.witnesses {
            let bad = || CheckpointError::BadCosignature(w.public_key.clone());
            let key = decode_key(&w.public_key).ok_or_else(bad)?;
            let sig = decode_signature(&w.signature).ok_or_else(bad)?;
            key.verify(&self.cosigned_message(&w.public_key, &w.signed_at), &sig)
                .map_err(|_| bad())?;
        }
        Ok(())
    }

    /// Signs the log's current size and head.
    pub fn sign(key: &SigningKey, size: i64, head: &str, signed_at: String) -> Checkpoint {
        let b64 = base64::engine::general_purpose::STANDARD;
        let sig = key.sign(&Self::message(size, head, &signed_at));
        Checkpoint {
            size,
            head: head.to_owned(),
            signed_at,
            public_key: b64.encode(key.verifying_key().as_bytes()),
            signature: b64.encode(sig.to_bytes()),
            witnesses: Vec::new(),
        }
    }

    /// Checks the signature against `key` (the deployment's own public key).
    pub fn verify_signature(&self, key: &VerifyingKey) -> Result<(), CheckpointError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        if self.public_key != b64.encode(key.as_bytes()) {
            return Err(CheckpointError::WrongKey);
        }
        let sig = decode_signature(&self.signature).ok_or(CheckpointError::BadSignature)?;
        key.verify(&Self::message(self.size, &self.head, &self.signed_at), &sig)
            .map_err(|_| CheckpointError::BadSignature)
    }
}

/// Ids as sorted, merged inclusive ranges `[first, last]`: how bulk entries
/// name the record versions and score changes they cover, compactly (a bulk
/// import's ids are mostly consecutive).
pub fn id_ranges(ids: &[i64]) -> Vec<[i64; 2]> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<[i64; 2]> = Vec::new();
    for id in sorted {
        match out.last_mut() {
            Some(r) if r[1] + 1 == id => r[1] = id,
            _ => out.push([id, id]),
        }
    }
    out
}

/// An Ed25519 public key from base64.
pub fn decode_key(b64: &str) -> Option<VerifyingKey> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    VerifyingKey::from_bytes(&<[u8; 32]>::try_from(bytes).ok()?).ok()
}

fn decode_signature(b64: &str) -> Option<Signature> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some(Signature::from_bytes(&<[u8; 64]>::try_from(bytes).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(i: i64) -> AuditEvent {
        AuditEvent {
            actor: "unit:SX-TAX".into(),
            action: "record.accepted".into(),
            subject: Some(format!("record:{i}")),
            person: Some("ab".repeat(32)),
            request_id: Some(format!("req-{i}")),
            detail: serde_json::json!({"item": "P01"}),
        }
    }

    fn log(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let (s, h) = out
                .last()
                .map_or((0, GENESIS.to_owned()), |e| (e.seq, e.hash.clone()));
            out.push(chain(s, &h, format!("2026-11-27T08:00:{i:02}Z"), ev(i)));
        }
        out
    }

    fn verify(entries: &[AuditEntry]) -> Result<ChainVerifier, Broken> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.push(e)?;
        }
        Ok(v)
    }

    #[test]
    fn intact_log_verifies() {
        let l = log(10);
        let v = verify(&l).unwrap();
        assert_eq!((v.size, v.head.as_str()), (10, l[9].hash.as_str()));
    }

    #[test]
    fn edits_deletions_and_reordering_are_named() {
        let mut edited = log(10);
        edited[4].event.detail = serde_json::json!({"item": "S01"});
        assert_eq!(verify(&edited).unwrap_err().seq, 5);

        let mut deleted = log(10);
        deleted.remove(6);
        assert_eq!(verify(&deleted).unwrap_err().seq, 8);

        let mut swapped = log(10);
        swapped.swap(2, 3);
        assert_eq!(verify(&swapped).unwrap_err().seq, 4);

        // Renumbering after a deletion does not help: the hashes no longer chain.
        let mut renumbered = log(10);
        renumbered.remove(6);
        for (i, e) in renumbered.iter_mut().enumerate() {
            e.seq = i as i64 + 1;
        }
        assert_eq!(verify(&renumbered).unwrap_err().seq, 7);
    }

    #[test]
    fn ids_become_merged_ranges() {
        assert_eq!(
            id_ranges(&[5, 3, 4, 9, 10, 1, 4]),
            vec![[1, 1], [3, 5], [9, 10]]
        );
        assert!(id_ranges(&[]).is_empty());
    }

    #[test]
    fn the_appender_signs_every_n_entries_and_the_verifier_checks_them() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let mut a = Appender::new(0, GENESIS.to_owned(), 0, &key);
        let mut out = Vec::new();
        for i in 0..(2 * CHECKPOINT_EVERY + 5) {
            a.push(format!("t{i}"), ev(i), &mut out);
        }
        let cps: Vec<i64> = out
            .iter()
            .filter(|e| e.event.action == CHECKPOINT_ACTION)
            .map(|e| e.seq)
            .collect();
        assert_eq!(cps, vec![CHECKPOINT_EVERY + 1, 2 * CHECKPOINT_EVERY + 2]);
        a.push("t".into(), checkpoint_request(), &mut out);
        assert_eq!(a.last_checkpoint, a.seq);

        let mut v = ChainVerifier::with_key(key.verifying_key());
        for e in &out {
            v.push(e).unwrap();
        }
        v.finish().unwrap();
        assert_eq!(v.checkpoints, 3);

        // Another key's checkpoints are named.
        let other = SigningKey::from_bytes(&[8u8; 32]);
        let mut v = ChainVerifier::with_key(other.verifying_key());
        let err = out.iter().try_for_each(|e| v.push(e)).unwrap_err();
        assert_eq!(err.seq, CHECKPOINT_EVERY + 1);

        // Without checkpoints, a long log does not pass.
        let mut plain = Vec::new();
        let (mut s, mut h) = (0, GENESIS.to_owned());
        for i in 0..=CHECKPOINT_EVERY {
            let e = chain(s, &h, "t".into(), ev(i));
            s = e.seq;
            h.clone_from(&e.hash);
            plain.push(e);
        }
        let mut v = ChainVerifier::with_key(key.verifying_key());
        plain.iter().try_for_each(|e| v.push(e)).unwrap();
        assert!(v.finish().is_err());
    }

    #[test]
    fn cosignatures_verify_and_forgeries_do_not() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let mut cp = Checkpoint::sign(&key, 10, "ab", "2026-11-27T09:00:00Z".into());
        cp.cosign(&SigningKey::from_bytes(&[3u8; 32]), "later".into())
            .unwrap();
        cp.verify_cosignatures().unwrap();
        let mut bad = cp.clone();
        bad.size = 9;
        assert!(bad.verify_cosignatures().is_err());
        assert!(bad
            .cosign(&SigningKey::from_bytes(&[4u8; 32]), "x".into())
            .is_err());
    }

    #[test]
    fn checkpoints_catch_truncation_and_rewriting() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let l = log(10);
        let cp = Checkpoint::sign(&key, 10, &l[9].hash, "2026-11-27T09:00:00Z".into());
        cp.verify_signature(&key.verifying_key()).unwrap();
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert_eq!(
            cp.verify_signature(&other.verifying_key()),
            Err(CheckpointError::WrongKey)
        );
        let mut forged = cp;
        forged.size = 11;
        assert_eq!(
            forged.verify_signature(&key.verifying_key()),
            Err(CheckpointError::BadSignature)
        );
    }
}
