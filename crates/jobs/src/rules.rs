//! The public rules pages' reads (no sign-in, nothing about anyone): the
//! score model in force with each indicator's best contribution, and the
//! difference between two published model versions.

use chengxin_domain::model::diff::{self, ModelDiff};
use chengxin_domain::model::{Model, ModelDoc};
use chengxin_store::{ModelStatus, StoredModel};
use jiff::civil::Date;

use crate::{Context, JobError};

/// The model in force as the public sees it.
#[derive(Debug, Clone)]
pub struct ModelInForce {
    pub version: String,
    pub hash: String,
    pub effective_from: Date,
    /// The document as scored (placeholders in its texts filled in).
    pub doc: ModelDoc,
    /// Each indicator's most points, in the order of `doc.indicators`.
    pub best: Vec<i32>,
}

/// The score model in force with each indicator's best contribution, from
/// the engine that scores with it (the same numbers as every explanation).
pub fn model_in_force(ctx: &Context) -> Result<ModelInForce, JobError> {
    let scorer = ctx.active(&mut *ctx.store.read()?)?;
    let model = scorer.engine.model();
    let best = model
        .doc
        .indicators
        .iter()
        .map(|i| scorer.engine.best(&i.code).unwrap_or(0))
        .collect();
    Ok(ModelInForce {
        version: scorer.model.version.clone(),
        hash: scorer.model.hash.clone(),
        effective_from: scorer.model.effective_from,
        doc: model.doc.clone(),
        best,
    })
}

/// The model versions that have been in force (staged ones are not
/// published), oldest first.
pub fn published_models(ctx: &Context) -> Result<Vec<StoredModel>, JobError> {
    Ok(ctx
        .store
        .read()?
        .models()?
        .into_iter()
        .filter(|m| m.status != ModelStatus::Staged)
        .collect())
}

/// A stored model's document: validated against the catalogue in force
/// when it still fits (texts as shown), else as written.
fn document(ctx: &Context, m: &StoredModel) -> Result<ModelDoc, JobError> {
    match Model::parse(&m.content, &ctx.catalogue()) {
        Ok(model) => Ok(model.doc),
        Err(_) => diff::read(&m.content)
            .map_err(|e| JobError::Invalid(format!("stored model {}: {e}", m.version))),
    }
}

/// The difference between the published versions `from` and `to`; `None`
/// when either is not a published version.
pub fn model_diff(ctx: &Context, from: &str, to: &str) -> Result<Option<ModelDiff>, JobError> {
    ctx.catalogue_now()?;
    let models = published_models(ctx)?;
    let find = |v: &str| models.iter().find(|m| m.version == v);
    let (Some(a), Some(b)) = (find(from), find(to)) else {
        return Ok(None);
    };
    Ok(Some(diff::diff(&document(ctx, a)?, &document(ctx, b)?)))
}
