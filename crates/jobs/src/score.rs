//! One person's score with its full explanation, computed from stored records
//! under the model in force as the store holds it now.

use std::sync::Arc;

use chengxin_domain::record::PersonInput;
use chengxin_domain::{Engine, Evaluation, IdNumber};
use chengxin_store::{HistoryEntry, StoredModel, StoredRecord, StoredScore};
use jiff::civil::Date;

use crate::context::Scorer;
use crate::{Context, JobError};

/// A person's explained score plus what is stored about them.
#[derive(Debug)]
pub struct Explained {
    pub person_id: i64,
    /// The person's blind index, as audit entries name them.
    pub index: Vec<u8>,
    /// The model in force the evaluation is under.
    pub model: StoredModel,
    pub(crate) engine: Arc<Engine>,
    /// The catalogue the records were decoded with.
    pub(crate) catalogue: Arc<chengxin_domain::Catalogue>,
    pub(crate) input: PersonInput,
    pub as_of: Date,
    /// The stored current score under the model in force, if any.
    pub stored: Option<StoredScore>,
    pub history: Vec<HistoryEntry>,
    pub records: Vec<StoredRecord>,
}

/// Explains the score of the person with `id` as of `as_of`; `None` if the
/// platform has no record of them. Everything is read in one snapshot.
pub fn explain(ctx: &Context, id: &IdNumber, as_of: Date) -> Result<Option<Explained>, JobError> {
    load(ctx, id, as_of, true)
}

/// [`explain`]; without `full`, the history and the list of every record
/// version are left empty (the evaluation needs neither).
pub(crate) fn load(
    ctx: &Context,
    id: &IdNumber,
    as_of: Date,
    full: bool,
) -> Result<Option<Explained>, JobError> {
    let index = ctx.store.keys().blind_index(id.as_str().as_bytes());
    let mut tx = ctx.store.snapshot()?;
    let Some(person_id) = tx.find_person(&index)? else {
        return Ok(None);
    };
    let Scorer {
        model,
        engine,
        catalogue,
    } = ctx.active(&mut *tx)?;
    let Some(raw) = tx.load_people(&[person_id], &model.version)?.pop() else {
        return Ok(None);
    };
    let input = crate::decode_person(&catalogue, &raw);
    Ok(Some(Explained {
        person_id,
        index: index.to_vec(),
        stored: tx.score(person_id, &model.version)?,
        history: if full {
            tx.score_history(person_id)?
        } else {
            Vec::new()
        },
        records: if full {
            tx.person_records(person_id)?
        } else {
            Vec::new()
        },
        model,
        engine,
        catalogue,
        input,
        as_of,
    }))
}

impl Explained {
    /// The object `chengxin score --json` prints and `GET /me/score` starts
    /// from: the evaluation, the masked ID number and the stored score.
    pub fn json(&self, id: &IdNumber) -> serde_json::Value {
        let mut v = serde_json::to_value(self.evaluation()).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("id_number_masked".into(), id.masked().into());
            o.insert(
                "stored".into(),
                serde_json::to_value(&self.stored).unwrap_or_default(),
            );
        }
        v
    }

    /// The score as of the explanation's date, with every line behind it,
    /// computed from the stored records under the model in force.
    pub fn evaluation(&self) -> Evaluation<'_> {
        self.engine.evaluate(&self.input, self.as_of)
    }
}
