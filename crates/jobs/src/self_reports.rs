//! Self-reports (自主申报, 第十二条): a resident reports an honour, a
//! donation or volunteer service (the items the catalogue marks
//! self-reportable) with evidence files; the report is a record from the
//! resident's own source in state `pending`, which does not count, until the
//! unit responsible for the item (or the agency) verifies it — it counts,
//! and the person is rescored at once — or rejects it with a reason.
//!
//! Fields are validated by the same validator as units' pushes; evidence by
//! the domain's rules (type from content, size, count). Evidence files are
//! stored content-addressed and encrypted: on disk beside a SQLite database,
//! in a `bytea` table on PostgreSQL (see the store's `submissions` modules).

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::record::RecordStatus;
use chengxin_domain::self_report::{
    check_evidence, self_reportable, Decision, EvidenceError, ReportStatus,
};
use chengxin_ingest::{Line, RowError, Validator};
use chengxin_store::uow::{EvidenceRef, NewEvidence, SubmissionFilter, SubmittedRecord};
use chengxin_store::{person_ref, Cause};
use jiff::civil::Date;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::records::store_records;
use crate::rescore::{rescore, versions};
use crate::resident::{Resident, RESIDENT_SOURCE};
use crate::units::Unit;
use crate::uow::{write, Change};
use crate::{Context, JobError};

/// Why a report was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The fields (or item) fail the catalogue, with the code a unit's push
    /// of the same record would get.
    #[error("{}", .0.message)]
    Invalid(RowError),
    #[error(
        "item {0} cannot be self-reported (only O01–O03: honours, donations, volunteer service)"
    )]
    NotSelfReportable(String),
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    #[error(transparent)]
    Job(#[from] JobError),
}

/// A stored report's id and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Submitted {
    pub id: i64,
    pub status: ReportStatus,
}

/// An evidence file of a report, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceInfo {
    /// Hex SHA-256 of the content: the file's address.
    pub sha256: String,
    pub media_type: String,
    pub size: i64,
}

impl From<&EvidenceRef> for EvidenceInfo {
    fn from(e: &EvidenceRef) -> Self {
        EvidenceInfo {
            sha256: hex::encode(&e.sha256),
            media_type: e.media_type.clone(),
            size: e.size,
        }
    }
}

/// A report as listed to the resident or to its verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub id: i64,
    pub item: String,
    pub fields: serde_json::Value,
    pub date: Date,
    pub status: ReportStatus,
    /// The reason given with the decision (always given with a rejection).
    pub reason: Option<String>,
    pub submitted_at: String,
    pub evidence: Vec<EvidenceInfo>,
    /// For verifiers only: whose report it is, the ID number masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

fn report(r: SubmittedRecord, evidence: &[EvidenceRef]) -> Report {
    Report {
        id: r.id,
        item: r.item,
        fields: serde_json::from_str(&r.fields).unwrap_or(serde_json::Value::Null),
        date: r.date,
        status: ReportStatus::of(r.status),
        reason: r.reason,
        submitted_at: r.received_at,
        evidence: evidence
            .iter()
            .filter(|e| e.record_id == r.id)
            .map(EvidenceInfo::from)
            .collect(),
        id_number: None,
        name: None,
    }
}

/// The items residents may report, in catalogue order.
pub fn reportable_items(ctx: &Context) -> Vec<String> {
    ctx.catalogue()
        .items
        .iter()
        .filter(|i| i.self_reportable)
        .map(|i| i.code.clone())
        .collect()
}

/// Submits a report of `item` with `fields` (JSON text) and evidence files:
/// validates all of it, then stores the files, the pending record and its
/// links, with their audit entries, in one unit of work.
pub fn submit(
    ctx: &Context,
    resident: Resident<'_>,
    item: &str,
    fields: &str,
    evidence: &[Vec<u8>],
) -> Result<Submitted, ReportError> {
    let invalid = |code, message: String| {
        ReportError::Invalid(RowError {
            line: 1,
            code,
            message,
            source_id: None,
        })
    };
    let catalogue = ctx.catalogue_now()?;
    match self_reportable(&catalogue, item) {
        None => {
            return Err(invalid(
                "unknown_item",
                format!("there is no catalogue item `{item}`"),
            ))
        }
        Some(false) => return Err(ReportError::NotSelfReportable(item.to_owned())),
        Some(true) => {}
    }
    let fields: serde_json::Value = serde_json::from_str(fields)
        .map_err(|e| invalid("malformed_json", format!("`fields` is not valid JSON: {e}")))?;
    let source_id = format!("sr-{:032x}", rand::random::<u128>());
    let line = serde_json::json!({
        "source_id": source_id,
        "item": item,
        "id_number": resident.id_number.as_str(),
        "fields": fields,
    });
    let validator = Validator::for_unit(
        std::sync::Arc::clone(&catalogue),
        RESIDENT_SOURCE,
        reportable_items(ctx),
    );
    let mut record = validator
        .validate(
            &Line::Json {
                line: 1,
                bytes: line.to_string().into_bytes(),
            },
            None,
        )
        .map_err(ReportError::Invalid)?;
    record.name = resident.name.map(str::to_owned);
    record.status = RecordStatus::Pending;
    let kinds = check_evidence(evidence.iter().map(Vec::as_slice))?;
    let hashes: Vec<[u8; 32]> = evidence.iter().map(|f| Sha256::digest(f).into()).collect();
    let files: Vec<NewEvidence<'_>> = evidence
        .iter()
        .zip(&kinds)
        .zip(&hashes)
        .map(|((content, kind), sha256)| NewEvidence {
            sha256: *sha256,
            media_type: kind.media_type(),
            content,
        })
        .collect();

    let today = crate::today();
    let actor = resident.actor(ctx);
    let change = Change::request(Cause::SelfReport, &actor, resident.request_id);
    let keys = ctx.store.keys();
    let id = write(&*ctx.store, |tx| {
        let scorers = ctx.in_play(tx)?;
        tx.put_evidence(&files)?;
        let stored = store_records(
            tx,
            keys,
            std::slice::from_ref(&record),
            &change,
            &versions(&scorers),
            catalogue.number,
        )?;
        let r = stored
            .results
            .first()
            .copied()
            .ok_or_else(|| JobError::Invalid("the store returned no result".into()))?;
        tx.link_evidence(r.record_id, &hashes)?;
        tx.append_audit(vec![AuditEvent {
            actor: actor.clone(),
            action: "self_report.submitted".into(),
            subject: Some(format!("record:{}", r.record_id)),
            person: Some(person_ref(&resident.index(ctx))),
            request_id: resident.request_id.map(str::to_owned),
            detail: serde_json::json!({
                "item": record.item,
                "evidence": hashes.iter().map(hex::encode).collect::<Vec<_>>(),
            }),
        }]);
        // Pending counts for nothing, but the person was marked: clear it now.
        rescore(ctx, tx, &scorers, &stored.touched, today, &change)?;
        Ok(r.record_id)
    })?;
    Ok(Submitted {
        id,
        status: ReportStatus::Pending,
    })
}

/// The resident's reports, oldest first, with status, reason and evidence.
/// The read is audited before the answer.
pub fn list_mine(ctx: &Context, resident: Resident<'_>) -> Result<Vec<Report>, JobError> {
    let mut tx = ctx.store.snapshot()?;
    let Some(person_id) = resident.find(ctx, &mut *tx)? else {
        drop(tx);
        resident.audit_read(ctx, None, "self_reports")?;
        return Ok(Vec::new());
    };
    let out = of_person(ctx, &mut *tx, person_id)?;
    drop(tx);
    resident.audit_read(ctx, Some(person_id), "self_reports")?;
    Ok(out)
}

/// A person's reports, oldest first, in a unit of work already open.
pub(crate) fn of_person<T: chengxin_store::ReadTx + ?Sized>(
    ctx: &Context,
    tx: &mut T,
    person_id: i64,
) -> Result<Vec<Report>, JobError> {
    let items = reportable_items(ctx);
    let rows = tx.submissions(&SubmissionFilter {
        unit: RESIDENT_SOURCE,
        person_id: Some(person_id),
        items: &items,
        status: None,
        after_id: 0,
        limit: usize::MAX >> 1,
    })?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let evidence = tx.evidence_of(&ids)?;
    Ok(rows.into_iter().map(|r| report(r, &evidence)).collect())
}

/// Who decides on reports.
#[derive(Debug, Clone, Copy)]
pub enum Verifier<'a> {
    /// A cooperating unit: only reports of the items it is responsible for.
    Unit {
        unit: &'a Unit,
        request_id: Option<&'a str>,
    },
    /// Agency staff (a reviewer): any report. `actor` as the audit log names them.
    Staff {
        actor: &'a str,
        request_id: Option<&'a str>,
    },
}

impl Verifier<'_> {
    fn actor(&self) -> String {
        match self {
            Verifier::Unit { unit, .. } => format!("unit:{}", unit.code),
            Verifier::Staff { actor, .. } => (*actor).to_owned(),
        }
    }

    fn request_id(&self) -> Option<&str> {
        match self {
            Verifier::Unit { request_id, .. } | Verifier::Staff { request_id, .. } => *request_id,
        }
    }

    /// The reportable items this verifier may see and decide.
    fn items(&self, ctx: &Context) -> Vec<String> {
        let all = reportable_items(ctx);
        match self {
            Verifier::Unit { unit, .. } => {
                all.into_iter().filter(|i| unit.items.contains(i)).collect()
            }
            Verifier::Staff { .. } => all,
        }
    }

    /// Whether `r` is a report this verifier may see.
    fn may_see(&self, ctx: &Context, r: &SubmittedRecord) -> bool {
        r.unit == RESIDENT_SOURCE && self.items(ctx).contains(&r.item)
    }
}

/// The reports a verifier may decide, in `status`, oldest first, after the
/// id `after`, at most `limit`; with whose they are (ID masked). Reading
/// them is audited as a read of each person's data.
pub fn queue(
    ctx: &Context,
    verifier: Verifier<'_>,
    status: ReportStatus,
    after: i64,
    limit: usize,
) -> Result<Vec<Report>, JobError> {
    let items = verifier.items(ctx);
    let mut tx = ctx.store.snapshot()?;
    let stored_status = match status {
        ReportStatus::Pending => Some(RecordStatus::Pending),
        ReportStatus::Rejected => Some(RecordStatus::Rejected),
        ReportStatus::Verified => None,
    };
    let rows: Vec<SubmittedRecord> = tx
        .submissions(&SubmissionFilter {
            unit: RESIDENT_SOURCE,
            person_id: None,
            items: &items,
            status: stored_status,
            after_id: after,
            limit,
        })?
        .into_iter()
        .filter(|r| ReportStatus::of(r.status) == status)
        .collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let evidence = tx.evidence_of(&ids)?;
    let mut out = Vec::with_capacity(rows.len());
    let mut people: Vec<(Vec<u8>, i64)> = Vec::new();
    for r in rows {
        let person_id = r.person_id;
        let identity = tx.identity(person_id)?;
        let mut rep = report(r, &evidence);
        if let Some(i) = identity {
            rep.id_number = Some(i.id_number.masked());
            rep.name = i.name;
            people.push((i.index, person_id));
        }
        out.push(rep);
    }
    drop(tx);
    let refs: Vec<(&[u8], i64)> = people.iter().map(|(i, p)| (i.as_slice(), *p)).collect();
    crate::audit::record_reads(
        ctx,
        &verifier.actor(),
        &refs,
        verifier.request_id(),
        "self_report",
    )?;
    Ok(out)
}

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// No such report, or not one this verifier may see.
    #[error("no self-report {0}")]
    NotFound(i64),
    /// The report was decided before.
    #[error("self-report {id} was already decided ({})", .status.as_str())]
    AlreadyDecided { id: i64, status: ReportStatus },
    #[error("{0}")]
    InvalidReason(&'static str),
    #[error(transparent)]
    Job(#[from] JobError),
}

/// The outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decided {
    pub id: i64,
    pub status: ReportStatus,
}

/// Verifies or rejects a pending report through
/// [`crate::decisions::decide`]: the state the domain allows, the person
/// rescored at once and the audit entry, in one unit of work.
pub fn decide(
    ctx: &Context,
    verifier: Verifier<'_>,
    id: i64,
    decision: Decision,
    reason: Option<&str>,
) -> Result<Decided, DecideError> {
    let reason = decision
        .check_reason(reason)
        .map_err(DecideError::InvalidReason)?;
    let visible = ctx
        .store
        .read()
        .map_err(JobError::from)?
        .submission(id)
        .map_err(JobError::from)?
        .is_some_and(|r| verifier.may_see(ctx, &r));
    if !visible {
        return Err(DecideError::NotFound(id));
    }
    let actor = verifier.actor();
    match crate::decisions::decide(
        ctx,
        id,
        decision.event(),
        reason.as_deref(),
        &actor,
        verifier.request_id(),
    )? {
        Ok(Some(next)) => Ok(Decided {
            id,
            status: ReportStatus::of(next),
        }),
        Ok(None) => Err(DecideError::NotFound(id)),
        Err(e) => Err(DecideError::AlreadyDecided {
            id,
            status: ReportStatus::of(e.state),
        }),
    }
}

/// One evidence file of a report the verifier may see: its media type and
/// content. Reading it is audited as a read of the person's data.
pub fn evidence_file(
    ctx: &Context,
    verifier: Verifier<'_>,
    id: i64,
    sha256_hex: &str,
) -> Result<Option<(String, Vec<u8>)>, JobError> {
    let Ok(sha256) = hex::decode(sha256_hex) else {
        return Ok(None);
    };
    let mut tx = ctx.store.snapshot()?;
    let Some(r) = tx.submission(id)?.filter(|r| verifier.may_see(ctx, r)) else {
        return Ok(None);
    };
    let Some(e) = tx
        .evidence_of(&[id])?
        .into_iter()
        .find(|e| e.sha256 == sha256)
    else {
        return Ok(None);
    };
    let Some(content) = tx.evidence_content(&sha256)? else {
        return Ok(None);
    };
    let index = tx.identity(r.person_id)?.map(|i| i.index);
    drop(tx);
    if let Some(index) = index {
        crate::audit::record_read(
            ctx,
            &verifier.actor(),
            &index,
            r.person_id,
            verifier.request_id(),
            "self_report_evidence",
        )?;
    }
    Ok(Some((e.media_type, content)))
}
