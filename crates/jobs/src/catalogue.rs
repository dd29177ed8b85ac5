//! The catalogue and the commitment templates as the agency's versioned data
//! (第十一条): validate a file against the data in force, publish it as the
//! next version (audited with the actor), list the versions, and load the
//! version in force. Version 1 of each is the one shipped in the binary.
//!
//! A catalogue version is refused when a stored record version (of any
//! state) would no longer validate under it, or a score model in play, or
//! the templates in force, would no longer fit it. The records are checked
//! here, streamed in pages, not in SQL; those stored while the check ran are
//! checked again in the unit of work that publishes, which holds back writers.

use std::collections::BTreeMap;

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::catalogue::versions::{
    templates_fit, templates_successor, CatalogueDoc, DataErrors, TemplatesDoc,
};
use chengxin_domain::model::ModelIssue as Issue;
use chengxin_domain::{Catalogue, Engine, Model};
use chengxin_store::uow::{DataKind, DataVersionRow, RecordFieldsRow};
use chengxin_store::ReadTx;
use jiff::civil::Date;
use serde::Serialize;

use crate::uow::write;
use crate::{Context, JobError};

pub use chengxin_store::uow::DataKind as Kind;

/// Record versions checked per page.
const PAGE: usize = 5000;
/// Example records named per problem.
const EXAMPLES: usize = 5;

/// Why a version was not validated or published.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file itself is wrong: every problem, with its path.
    #[error("the file is not valid: {0}")]
    Invalid(DataErrors),
    /// The file is well formed but may not follow the data in force: the
    /// stored records, the models in play or the templates would break.
    #[error("refused: {0}")]
    Refused(DataErrors),
    /// A version with this label is already published.
    #[error("{kind} version `{label}` is already published")]
    Exists { kind: &'static str, label: String },
    #[error(transparent)]
    Job(#[from] JobError),
}

impl From<chengxin_store::StoreError> for DataError {
    fn from(e: chengxin_store::StoreError) -> Self {
        DataError::Job(e.into())
    }
}

/// A published version as listed (its text left out).
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    pub number: i64,
    pub label: String,
    pub hash: String,
    pub effective_from: Date,
    /// Unix seconds.
    pub published_at: i64,
    pub published_by: String,
    pub in_force: bool,
}

impl VersionInfo {
    fn of(row: &DataVersionRow, in_force: bool) -> VersionInfo {
        VersionInfo {
            number: row.number,
            label: row.label.clone(),
            hash: row.hash.clone(),
            effective_from: row.effective_from,
            published_at: row.published_at,
            published_by: row.published_by.clone(),
            in_force,
        }
    }
}

/// What a validation found: the version it would become.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub number: i64,
    pub label: String,
    pub hash: String,
    /// Stored record versions checked against it (catalogues only).
    pub records_checked: u64,
}

fn refused(issues: Vec<Issue>) -> Result<(), DataError> {
    if issues.is_empty() {
        Ok(())
    } else {
        Err(DataError::Refused(DataErrors(issues)))
    }
}

fn now_secs() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Stores version 1 of the catalogue and of the templates (the shipped
/// ones) if the store has none yet.
pub(crate) fn install_builtin(ctx: &Context) -> Result<(), JobError> {
    if ctx.store.read()?.data_numbers()? != (0, 0) {
        return Ok(());
    }
    let (catalogue, templates) = Catalogue::builtin_texts();
    let builtin = Catalogue::builtin();
    let templates_hash = TemplatesDoc::parse(templates)
        .map_err(|e| JobError::Invalid(format!("shipped templates: {e}")))?
        .hash();
    let rows = [
        (DataKind::Catalogue, catalogue, builtin.doc().hash()),
        (DataKind::Templates, templates, templates_hash),
    ];
    write(&*ctx.store, |tx| {
        tx.lock_data_versions()?;
        let numbers = tx.data_numbers()?;
        for (kind, text, hash) in &rows {
            let stored = match kind {
                DataKind::Catalogue => numbers.0,
                DataKind::Templates => numbers.1,
            };
            if stored == 0 {
                tx.insert_data_version(&DataVersionRow {
                    kind: *kind,
                    number: 1,
                    label: builtin.version.clone(),
                    hash: hash.clone(),
                    content: (*text).to_owned(),
                    effective_from: Date::constant(2026, 1, 1),
                    published_at: now_secs(),
                    published_by: crate::SYSTEM.to_owned(),
                })?;
            }
        }
        Ok(())
    })
}

/// The catalogue and templates in force as `tx` sees them.
pub(crate) fn load(tx: &mut dyn ReadTx) -> Result<Catalogue, JobError> {
    let corrupt = |what: &str, e: DataErrors| JobError::Invalid(format!("stored {what}: {e}"));
    let versions = tx.data_versions(DataKind::Catalogue)?;
    let Some((current, earlier)) = versions.split_last() else {
        return Ok(Catalogue::builtin());
    };
    let doc = CatalogueDoc::parse(&current.content).map_err(|e| corrupt("catalogue", e))?;
    let (templates, templates_number) = match tx.data_in_force(DataKind::Templates)? {
        Some(t) => (
            TemplatesDoc::parse(&t.content)
                .map_err(|e| corrupt("templates", e))?
                .templates(),
            t.number,
        ),
        None => (Catalogue::builtin().templates, 1),
    };
    let lineage = earlier.iter().map(|v| v.label.clone()).collect();
    Catalogue::assemble(doc, templates, current.number, templates_number, lineage)
        .map_err(|e| corrupt("catalogue and templates", e))
}

/// Every version of `kind`, oldest first.
pub fn list(ctx: &Context, kind: DataKind) -> Result<Vec<VersionInfo>, JobError> {
    let rows = ctx.store.read()?.data_versions(kind)?;
    let last = rows.last().map(|r| r.number);
    Ok(rows
        .iter()
        .map(|r| VersionInfo::of(r, Some(r.number) == last))
        .collect())
}

/// The version of `kind` in force.
pub fn in_force(ctx: &Context, kind: DataKind) -> Result<Option<VersionInfo>, JobError> {
    Ok(ctx
        .store
        .read()?
        .data_in_force(kind)?
        .map(|r| VersionInfo::of(&r, true)))
}

/// A candidate checked against the data in force, ready to be stored.
struct Candidate {
    row: DataVersionRow,
    /// The numbers in force it was checked against.
    numbers: (i64, i64),
    next: Catalogue,
    /// The last record version checked.
    last_record: i64,
    records_checked: u64,
}

/// The models in play must still load and build an engine under `next`.
fn check_models(
    tx: &mut dyn ReadTx,
    next: &Catalogue,
    issues: &mut Vec<Issue>,
) -> Result<(), JobError> {
    for m in tx.models()?.into_iter().filter(|m| m.status.in_play()) {
        let path = format!("(model {})", m.version);
        match Model::parse(&m.content, next) {
            Err(e) => issues.extend(e.0.into_iter().map(|i| Issue {
                path: path.clone(),
                message: format!("the model no longer fits at `{}`: {}", i.path, i.message),
            })),
            Ok(parsed) => {
                if let Err(e) = Engine::new(next, &parsed) {
                    issues.push(Issue {
                        path,
                        message: format!("the model no longer fits: {e}"),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Problems of stored records under a candidate catalogue, by path.
#[derive(Default)]
struct RecordProblems {
    /// path → (count, example messages).
    found: BTreeMap<String, (u64, Vec<String>)>,
    checked: u64,
}

impl RecordProblems {
    fn check(&mut self, next: &Catalogue, rows: &[RecordFieldsRow]) {
        for r in rows {
            self.checked += 1;
            let (path, message) = match next.position(&r.item) {
                None => (
                    "items".to_owned(),
                    format!("item {} is removed but has stored records", r.item),
                ),
                Some(i) => match next.items[i].decode(&r.fields, &next.templates) {
                    Ok(_) => continue,
                    Err(e) => (
                        format!("items[{i}].fields.{}", e.field),
                        format!("{} record {}: {}", r.item, r.id, e.message),
                    ),
                },
            };
            let entry = self.found.entry(path).or_default();
            entry.0 += 1;
            if entry.1.len() < EXAMPLES && !entry.1.contains(&message) {
                entry.1.push(message);
            }
        }
    }

    fn issues(self) -> Vec<Issue> {
        self.found
            .into_iter()
            .map(|(path, (count, examples))| Issue {
                path,
                message: format!(
                    "{count} stored record version(s) would no longer be valid, e.g. {}",
                    examples.join("; ")
                ),
            })
            .collect()
    }
}

/// Streams the stored record versions after `after` through `problems`;
/// returns the last id seen.
fn scan_records(
    tx: &mut dyn ReadTx,
    next: &Catalogue,
    mut after: i64,
    problems: &mut RecordProblems,
) -> Result<i64, JobError> {
    loop {
        let page = tx.record_fields_after(after, PAGE)?;
        let Some(last) = page.last() else {
            return Ok(after);
        };
        after = last.id;
        problems.check(next, &page);
    }
}

fn check_catalogue(
    ctx: &Context,
    text: &str,
    effective_from: Date,
    actor: &str,
) -> Result<Candidate, DataError> {
    let doc = CatalogueDoc::parse(text).map_err(DataError::Invalid)?;
    let mut tx = ctx.store.read()?;
    let current = ctx.sync_catalogue(&mut *tx)?;
    let versions = tx.data_versions(DataKind::Catalogue)?;
    if versions.iter().any(|v| v.label == doc.version) {
        return Err(DataError::Exists {
            kind: "catalogue",
            label: doc.version,
        });
    }
    let row = DataVersionRow {
        kind: DataKind::Catalogue,
        number: current.number + 1,
        label: doc.version.clone(),
        hash: doc.hash(),
        content: text.to_owned(),
        effective_from,
        published_at: now_secs(),
        published_by: actor.to_owned(),
    };
    let lineage = versions.iter().map(|v| v.label.clone()).collect();
    let next = Catalogue::assemble(
        doc,
        current.templates.clone(),
        row.number,
        current.templates_number,
        lineage,
    )
    .map_err(|e| {
        DataError::Refused(DataErrors(
            e.0.into_iter()
                .map(|i| Issue {
                    path: format!("(templates in force) {}", i.path),
                    message: i.message,
                })
                .collect(),
        ))
    })?;
    let mut issues = Vec::new();
    check_models(&mut *tx, &next, &mut issues)?;
    drop(tx);
    // The records, page by page, each page in its own snapshot.
    let mut problems = RecordProblems::default();
    let mut after = 0;
    loop {
        let page = ctx.store.read()?.record_fields_after(after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        problems.check(&next, &page);
    }
    let records_checked = problems.checked;
    issues.extend(problems.issues());
    refused(issues)?;
    Ok(Candidate {
        row,
        numbers: (current.number, current.templates_number),
        next,
        last_record: after,
        records_checked,
    })
}

fn check_templates(
    ctx: &Context,
    text: &str,
    effective_from: Date,
    actor: &str,
) -> Result<Candidate, DataError> {
    let doc = TemplatesDoc::parse(text).map_err(DataError::Invalid)?;
    let mut tx = ctx.store.read()?;
    let current = ctx.sync_catalogue(&mut *tx)?;
    let versions = tx.data_versions(DataKind::Templates)?;
    if versions.iter().any(|v| v.label == doc.version) {
        return Err(DataError::Exists {
            kind: "templates",
            label: doc.version,
        });
    }
    let templates = doc.templates();
    let fit = templates_fit(&templates, &current.items);
    if !fit.is_empty() {
        return Err(DataError::Invalid(DataErrors(fit)));
    }
    let mut issues = templates_successor(&current.templates, &templates);
    let row = DataVersionRow {
        kind: DataKind::Templates,
        number: current.templates_number + 1,
        label: doc.version.clone(),
        hash: doc.hash(),
        content: text.to_owned(),
        effective_from,
        published_at: now_secs(),
        published_by: actor.to_owned(),
    };
    let next = Catalogue::assemble(
        current.doc(),
        templates,
        current.number,
        row.number,
        current.lineage.clone(),
    )
    .map_err(DataError::Invalid)?;
    check_models(&mut *tx, &next, &mut issues)?;
    refused(issues)?;
    Ok(Candidate {
        row,
        numbers: (current.number, current.templates_number),
        next,
        last_record: 0,
        records_checked: 0,
    })
}

fn checked(c: &Candidate) -> Checked {
    Checked {
        number: c.row.number,
        label: c.row.label.clone(),
        hash: c.row.hash.clone(),
        records_checked: c.records_checked,
    }
}

/// Checks a file of `kind` against the data in force without storing it.
pub fn validate(ctx: &Context, kind: DataKind, text: &str) -> Result<Checked, DataError> {
    let c = match kind {
        DataKind::Catalogue => check_catalogue(ctx, text, crate::today(), ctx.actor())?,
        DataKind::Templates => check_templates(ctx, text, crate::today(), ctx.actor())?,
    };
    Ok(checked(&c))
}

/// Publishes a file of `kind` as the next version, in force at once and
/// from `effective_from` on paper; audited as `catalogue.published` or
/// `templates.published` with `actor`.
pub fn publish(
    ctx: &Context,
    kind: DataKind,
    text: &str,
    effective_from: Date,
    actor: &str,
) -> Result<Checked, DataError> {
    let c = match kind {
        DataKind::Catalogue => check_catalogue(ctx, text, effective_from, actor)?,
        DataKind::Templates => check_templates(ctx, text, effective_from, actor)?,
    };
    let stored = write(&*ctx.store, |tx| {
        tx.lock_data_versions()?;
        if tx.data_numbers()? != c.numbers {
            return Ok(Err(DataError::Refused(DataErrors(vec![Issue {
                path: "(store)".into(),
                message:
                    "another version was published meanwhile; validate against it and publish again"
                        .into(),
            }]))));
        }
        if kind == DataKind::Catalogue {
            // Records stored while the check ran; writers wait from here on.
            let mut problems = RecordProblems::default();
            scan_records(tx, &c.next, c.last_record, &mut problems)?;
            if let Err(e) = refused(problems.issues()) {
                return Ok(Err(e));
            }
        }
        if !tx.insert_data_version(&c.row)? {
            return Ok(Err(DataError::Exists {
                kind: kind.as_str(),
                label: c.row.label.clone(),
            }));
        }
        tx.append_audit(vec![AuditEvent {
            actor: actor.to_owned(),
            action: format!("{}.published", kind.as_str()),
            subject: Some(format!("{}:{}", kind.as_str(), c.row.number)),
            person: None,
            request_id: None,
            detail: serde_json::json!({
                "number": c.row.number,
                "label": c.row.label,
                "sha256": c.row.hash,
                "effective_from": c.row.effective_from.to_string(),
                "records_checked": c.records_checked,
            }),
        }]);
        Ok(Ok(()))
    })?;
    stored?;
    ctx.catalogue_now()?;
    Ok(checked(&c))
}

/// The catalogue in force with its stored version, read in one snapshot.
pub fn current(ctx: &Context) -> Result<(VersionInfo, std::sync::Arc<Catalogue>), JobError> {
    let mut tx = ctx.store.read()?;
    let catalogue = ctx.sync_catalogue(&mut *tx)?;
    let row = tx
        .data_in_force(DataKind::Catalogue)?
        .ok_or_else(|| JobError::Invalid("no catalogue version is stored".into()))?;
    Ok((VersionInfo::of(&row, true), catalogue))
}
