//! Credit commitments (信用承诺, 第八条): the templates in force, a resident
//! signing one, and their list with where each stands.
//!
//! A signature is a C01 record whose source is the resident (unit
//! [`RESIDENT_SOURCE`], source id `PERSON-TEMPLATE-N`, N one more than the
//! person's signatures so far: two racing requests to sign the same
//! template make the same case, and the second runs again and is refused),
//! with the signed Chinese text and its SHA-256 in its fields. It is stored, the person rescored and
//! both audited in one unit of work. Where a commitment stands (active,
//! fulfilled, breached, expired) is the domain's rule
//! ([`chengxin_domain::commitment::standing`]).

use chengxin_domain::catalogue::Raw;
use chengxin_domain::commitment::{may_sign, standing, CommitmentStatus, Standing, Template};
use chengxin_domain::record::{NewRecord, RecordStatus};
use chengxin_store::uow::PersonKey;
use chengxin_store::Cause;
use jiff::civil::Date;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::records::store_records;
use crate::rescore::{rescore, versions};
use crate::resident::{current_records, Resident, RESIDENT_SOURCE};
use crate::uow::{write, Change};
use crate::{Context, JobError};

/// The catalogue item of a signature.
const SIGNATURE_ITEM: &str = "C01";

/// A commitment template as the public list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateView {
    pub code: String,
    /// Chinese title and text: the binding ones.
    pub title: String,
    pub text: String,
    pub term_months: i32,
    pub title_en: String,
    pub text_en: String,
}

impl From<&Template> for TemplateView {
    fn from(t: &Template) -> Self {
        TemplateView {
            code: t.code.clone(),
            title: t.title_zh.clone(),
            text: t.text_zh.clone(),
            term_months: t.term_months,
            title_en: t.title_en.clone(),
            text_en: t.text_en.clone(),
        }
    }
}

/// The templates in force that may be signed (retired ones left out), by code.
pub fn templates(ctx: &Context) -> Result<Vec<TemplateView>, JobError> {
    Ok(ctx
        .catalogue_now()?
        .templates
        .templates
        .iter()
        .filter(|t| !t.retired)
        .map(TemplateView::from)
        .collect())
}

/// A signed commitment as its signer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commitment {
    /// The C01 record's id.
    pub id: i64,
    pub template: String,
    pub signed_on: Date,
    /// The last day of the term.
    pub valid_until: Date,
    pub status: CommitmentStatus,
    /// The record that breached it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breached_by: Option<i64>,
}

impl From<Standing> for Commitment {
    fn from(s: Standing) -> Self {
        Commitment {
            id: s.record,
            template: s.template,
            signed_on: s.signed_on,
            valid_until: s.valid_until,
            status: s.status,
            breached_by: s.breached_by,
        }
    }
}

/// Why a signature was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("there is no commitment template `{0}`")]
    UnknownTemplate(String),
    /// The template is retired: no new signatures (those signed stay valid).
    #[error("commitment template `{0}` is retired and takes no new signatures")]
    Retired(String),
    /// A signature of the same template is still active.
    #[error("commitment {existing} to template {template} is still active")]
    AlreadyActive { template: String, existing: i64 },
    #[error(transparent)]
    Job(#[from] JobError),
}

/// The SHA-256 (hex) of a signed text, as kept with the signature.
pub fn text_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The signature record for `template`, signed on `on`.
fn signature(
    ctx: &Context,
    resident: &Resident<'_>,
    person_id: i64,
    template: &Template,
    on: Date,
    n: usize,
) -> Result<NewRecord, JobError> {
    let catalogue = ctx.catalogue();
    let item = catalogue
        .item(SIGNATURE_ITEM)
        .ok_or_else(|| JobError::Invalid("the catalogue has no C01 item".into()))?;
    let fields = serde_json::json!({
        "template": template.code,
        "signed_on": on.to_string(),
        "text": template.text_zh,
        "text_sha256": text_hash(&template.text_zh),
    });
    let map = fields.as_object().into_iter().flatten();
    let fields = catalogue
        .validate(item, map.map(|(k, v)| (k.as_str(), Raw::Json(v))))
        .map_err(|e| JobError::Invalid(format!("a signature does not fit C01: {e}")))?;
    Ok(NewRecord {
        unit: RESIDENT_SOURCE.to_owned(),
        source_id: format!("{person_id}-{}-{n}", template.code),
        item: item.code.clone(),
        id_number: *resident.id_number,
        name: resident.name.map(str::to_owned),
        fields: item.canonical_json(&fields),
        record_date: item.record_date(&fields),
        status: RecordStatus::Active,
        source_version: None,
    })
}

/// Signs the commitment `template` today: stores the signature, rescores the
/// person and audits both, in one unit of work.
pub fn sign(
    ctx: &Context,
    resident: Resident<'_>,
    template: &str,
) -> Result<Commitment, SignError> {
    let catalogue = ctx.catalogue_now()?;
    let Some(t) = catalogue.templates.get(template) else {
        return Err(SignError::UnknownTemplate(template.to_owned()));
    };
    if t.retired {
        return Err(SignError::Retired(template.to_owned()));
    }
    let today = crate::today();
    let actor = resident.actor(ctx);
    let change = Change::request(Cause::Commitment, &actor, resident.request_id);
    let keys = ctx.store.keys();
    let index = resident.index(ctx);
    write(&*ctx.store, |tx| {
        let person_id = tx.resolve_people(&[PersonKey {
            index,
            id_number: resident.id_number,
            name: resident.name,
        }])?[0];
        let records = current_records(ctx, tx, person_id)?;
        let standings = standings(ctx, &records, today);
        if let Err(existing) = may_sign(&t.code, &standings) {
            return Ok(Err(SignError::AlreadyActive {
                template: t.code.clone(),
                existing,
            }));
        }
        let row = signature(ctx, &resident, person_id, t, today, standings.len() + 1)?;
        let scorers = ctx.in_play(tx)?;
        let stored = store_records(
            tx,
            keys,
            std::slice::from_ref(&row),
            &change,
            &versions(&scorers),
            ctx.catalogue().number,
        )?;
        rescore(ctx, tx, &scorers, &stored.touched, today, &change)?;
        let id = stored
            .results
            .first()
            .map(|r| r.record_id)
            .ok_or_else(|| JobError::Invalid("the store returned no result".into()))?;
        let records = current_records(ctx, tx, person_id)?;
        let signed = records
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| standing(&ctx.catalogue(), r, &records, today))
            .ok_or_else(|| JobError::Invalid(format!("signature {id} does not read back")))?;
        Ok(Ok(Commitment::from(signed)))
    })?
}

/// Where each of a set of records' signatures stands.
fn standings(
    ctx: &Context,
    records: &[chengxin_domain::record::Record],
    as_of: Date,
) -> Vec<Standing> {
    let catalogue = ctx.catalogue();
    records
        .iter()
        .filter(|r| {
            catalogue
                .items
                .get(r.item)
                .is_some_and(|i| i.code == SIGNATURE_ITEM)
        })
        .filter_map(|r| standing(&catalogue, r, records, as_of))
        .collect()
}

/// A person's commitments as of today, in a unit of work already open.
pub(crate) fn of_person<T: chengxin_store::ReadTx + ?Sized>(
    ctx: &Context,
    tx: &mut T,
    person_id: i64,
) -> Result<Vec<Commitment>, JobError> {
    let records = current_records(ctx, tx, person_id)?;
    Ok(standings(ctx, &records, crate::today())
        .into_iter()
        .map(Commitment::from)
        .collect())
}

/// The resident's commitments (signed anywhere: online or at a unit's
/// counter), oldest first, each with where it stands today. The read is
/// audited before the answer.
pub fn list(ctx: &Context, resident: Resident<'_>) -> Result<Vec<Commitment>, JobError> {
    let today = crate::today();
    let mut tx = ctx.store.snapshot()?;
    let found = resident.find(ctx, &mut *tx)?;
    let records = match found {
        Some(person_id) => current_records(ctx, &mut *tx, person_id)?,
        None => Vec::new(),
    };
    drop(tx);
    resident.audit_read(ctx, found, "commitments")?;
    Ok(standings(ctx, &records, today)
        .into_iter()
        .map(Commitment::from)
        .collect())
}
