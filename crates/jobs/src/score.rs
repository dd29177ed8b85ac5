//! One person's score with its full explanation, computed from stored records.

use chengxin_domain::{Evaluation, IdNumber};
use chengxin_store::{HistoryEntry, StoredRecord, StoredScore};
use jiff::civil::Date;

use crate::{Context, JobError};

/// A person's explained score plus what is stored about them.
#[derive(Debug)]
pub struct Explained<'a> {
    pub person_id: i64,
    /// Computed now from the stored records.
    pub evaluation: Evaluation<'a>,
    /// The stored current score under the model in force, if any.
    pub stored: Option<StoredScore>,
    pub history: Vec<HistoryEntry>,
    pub records: Vec<StoredRecord>,
}

/// Explains the score of the person with `id` as of `as_of`; `None` if the
/// platform has no record of them.
pub fn explain<'a>(
    ctx: &'a Context,
    id: &IdNumber,
    as_of: Date,
) -> Result<Option<Explained<'a>>, JobError> {
    let Some(person_id) = ctx.store.find_person(id)? else {
        return Ok(None);
    };
    let version = ctx.engine.model().version();
    let Some(raw) = ctx.store.load_person(person_id, version)? else {
        return Ok(None);
    };
    let input = crate::decode_person(&ctx.catalogue, ctx.items(), &raw);
    let evaluation = ctx.engine.evaluate(&input, as_of);
    Ok(Some(Explained {
        person_id,
        evaluation,
        stored: ctx.store.score(person_id, version)?,
        history: ctx.store.score_history(person_id)?,
        records: ctx.store.person_records(person_id)?,
    }))
}
