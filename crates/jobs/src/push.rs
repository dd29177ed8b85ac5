//! Units pushing single records and withdrawing them over HTTP: each change,
//! the person's rescoring and the audit entries commit together.

use chengxin_domain::record::{Outcome, RecordEvent, RecordStatus};
use chengxin_ingest::{Line, RowError, Validator};
use chengxin_store::Cause;
use serde::Serialize;

use crate::records::{apply_event, store_records};
use crate::rescore::{rescore, versions};
use crate::units::Unit;
use crate::uow::{write, Change};
use crate::{Context, JobError};

/// Who is calling, for authorisation and the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub unit: &'a Unit,
    /// Our id of the HTTP request, recorded in audit entries.
    pub request_id: Option<&'a str>,
    /// The id the client chose for its request (`X-Request-Id`), if any:
    /// recorded apart from ours, as `detail.client_request_id`.
    pub client_request_id: Option<&'a str>,
}

impl Caller<'_> {
    /// The audit actor name, `unit:CODE`.
    pub fn actor(&self) -> String {
        format!("unit:{}", self.unit.code)
    }

    /// The change this caller's request makes, audited per record.
    pub fn change<'c>(&'c self, cause: Cause, actor: &'c str) -> Change<'c> {
        Change::request(cause, actor, self.request_id)
            .with_client_request_id(self.client_request_id)
    }
}

/// What a push or withdrawal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptOutcome {
    Accepted,
    Duplicate,
    Corrected,
    /// Older (by `source_version`) than the version stored: not applied.
    Stale,
    Withdrawn,
}

impl From<Outcome> for ReceiptOutcome {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Accepted => ReceiptOutcome::Accepted,
            Outcome::Duplicate => ReceiptOutcome::Duplicate,
            Outcome::Corrected => ReceiptOutcome::Corrected,
            Outcome::Stale => ReceiptOutcome::Stale,
        }
    }
}

/// The answer to a push or withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordReceipt {
    pub source_id: String,
    pub record_id: i64,
    pub outcome: ReceiptOutcome,
    /// The person was rescored in the same transaction. The score itself is
    /// never shown to a unit (第十六条: no disclosure without the person's consent).
    pub rescored: bool,
}

/// Why a push was refused.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The record is invalid or not permitted (`code` says which).
    #[error("{}", .0.message)]
    Invalid(RowError),
    /// No such record from this unit.
    #[error("no record `{0}` from this unit")]
    NotFound(String),
    /// The record's state does not allow a withdrawal (it was repaired, or
    /// is a rejected self-report).
    #[error("record `{source_id}` is {} and cannot be withdrawn", .state.as_str())]
    NotWithdrawable {
        source_id: String,
        state: RecordStatus,
    },
    #[error(transparent)]
    Job(#[from] JobError),
}

impl From<chengxin_store::StoreError> for PushError {
    fn from(e: chengxin_store::StoreError) -> Self {
        PushError::Job(e.into())
    }
}

/// Stores one record (the import format without `unit`) and rescores its person.
pub fn push_record(
    ctx: &Context,
    caller: Caller<'_>,
    body: &[u8],
) -> Result<RecordReceipt, PushError> {
    let validator = Validator::for_unit(
        ctx.catalogue_now()?,
        &caller.unit.code,
        caller.unit.items.clone(),
    );
    let line = Line::Json {
        line: 1,
        bytes: body.to_vec(),
    };
    let record = validator
        .validate(&line, None)
        .map_err(PushError::Invalid)?;
    let today = crate::today();
    let actor = caller.actor();
    let change = caller.change(Cause::Push, &actor);
    let keys = ctx.store.keys();
    let r = write(&*ctx.store, |tx| {
        let scorers = ctx.in_play(tx)?;
        let stored = store_records(
            tx,
            keys,
            std::slice::from_ref(&record),
            &change,
            &versions(&scorers),
            validator.catalogue().number,
        )?;
        rescore(ctx, tx, &scorers, &stored.touched, today, &change)?;
        stored
            .results
            .first()
            .copied()
            .ok_or_else(|| JobError::Invalid("the store returned no result".into()))
    })?;
    Ok(RecordReceipt {
        source_id: record.source_id,
        record_id: r.record_id,
        outcome: r.outcome.into(),
        rescored: matches!(r.outcome, Outcome::Accepted | Outcome::Corrected),
    })
}

/// Withdraws a record: it stops counting and the person is rescored.
pub fn withdraw(
    ctx: &Context,
    caller: Caller<'_>,
    source_id: &str,
    reason: &str,
) -> Result<RecordReceipt, PushError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(PushError::Invalid(RowError {
            line: 1,
            code: "missing_field",
            message: "a withdrawal needs a `reason` of 1 to 500 characters".into(),
            source_id: Some(source_id.to_owned()),
        }));
    }
    // PostgreSQL cannot store U+0000; nothing invisible is stored on any backend.
    if let Err(e) = chengxin_domain::text::check(reason) {
        return Err(PushError::Invalid(RowError {
            line: 1,
            code: chengxin_domain::text::TextError::CODE,
            message: format!("`reason`: {e}"),
            source_id: None,
        }));
    }
    if chengxin_domain::text::check(source_id).is_err() {
        // No record can have such an id: validation refuses it.
        return Err(PushError::NotFound(source_id.to_owned()));
    }
    let today = crate::today();
    let actor = caller.actor();
    let change = caller.change(Cause::Withdraw, &actor);
    let unit = caller.unit.code.as_str();
    write(&*ctx.store, |tx| {
        let Some(head) = tx.record_heads(&[(unit, source_id)])?.pop().flatten() else {
            return Ok(Err(PushError::NotFound(source_id.to_owned())));
        };
        let scorers = ctx.in_play(tx)?;
        let applied = apply_event(
            tx,
            &head,
            RecordEvent::Withdraw,
            Some(reason),
            &change,
            "record.withdrawn",
            &versions(&scorers),
        )?;
        let changed = match applied {
            Ok(changed) => changed.is_some(),
            Err(e) => {
                return Ok(Err(PushError::NotWithdrawable {
                    source_id: source_id.to_owned(),
                    state: e.state,
                }))
            }
        };
        if changed {
            rescore(ctx, tx, &scorers, &[head.person_id], today, &change)?;
        }
        Ok(Ok(RecordReceipt {
            source_id: source_id.to_owned(),
            record_id: head.id,
            outcome: ReceiptOutcome::Withdrawn,
            rescored: changed,
        }))
    })?
}
