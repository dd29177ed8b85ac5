//! The catalogue, the model in force and the store, bound together.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chengxin_domain::record::{PersonInput, Record};
use chengxin_domain::{Catalogue, Engine, Model};
use chengxin_store::{
    ModelStamp, ModelStatus, RawPerson, ScoreRow, ScoreState, Store, StoredModel,
};
use jiff::civil::Date;

/// What went wrong in a job.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] chengxin_store::StoreError),
    #[error(transparent)]
    Read(#[from] chengxin_ingest::ReadError),
    #[error(transparent)]
    Model(#[from] chengxin_domain::model::ModelErrors),
    #[error("the model does not fit the catalogue: {0}")]
    Engine(#[from] chengxin_domain::engine::EngineError),
    #[error("cannot write {0}: {1}")]
    Output(String, std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

/// A store with the catalogue and the engine for the model in force.
///
/// `engine` is the model in force when the context was made (or the one it
/// was made with). Long-running callers (the server) must not rely on it for
/// writes: inline rescoring goes through [`Context::inline_scorer`], which
/// scores under whatever models the store's own transaction sees.
pub struct Context {
    pub store: Arc<dyn Store>,
    pub catalogue: Arc<Catalogue>,
    pub engine: Arc<Engine>,
    items: HashMap<String, usize>,
    /// Engines for stored models, by content hash, built once each.
    engines: Mutex<HashMap<String, Arc<Engine>>>,
}

impl Context {
    /// Binds to a store; installs the built-in model `2026.1` on first use.
    pub fn new(store: Arc<dyn Store>) -> Result<Context, JobError> {
        let catalogue = Arc::new(Catalogue::builtin());
        let model = match store.active_model()? {
            Some(m) => Model::parse(&m.content, &catalogue)?,
            None => {
                let m = Model::builtin(&catalogue);
                let stored = stored_model(
                    &m,
                    chengxin_domain::model::DEFAULT_MODEL,
                    Date::constant(2026, 1, 1),
                );
                store.stage_model(&stored)?;
                store.activate_model(m.version())?;
                m
            }
        };
        Context::with_model(store, catalogue, &model)
    }

    /// Binds to a store with a given model (used for simulation and publishing).
    pub fn with_model(
        store: Arc<dyn Store>,
        catalogue: Arc<Catalogue>,
        model: &Model,
    ) -> Result<Context, JobError> {
        let engine = Arc::new(Engine::new(&catalogue, model)?);
        let items = catalogue
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.code.clone(), i))
            .collect();
        let engines = Mutex::new(HashMap::from([(model.hash.clone(), Arc::clone(&engine))]));
        Ok(Context {
            store,
            catalogue,
            engine,
            items,
            engines,
        })
    }

    /// The engine for a stored model, built from its text on first use.
    pub fn engine_for(&self, model: &StoredModel) -> Result<Arc<Engine>, JobError> {
        let mut engines = self
            .engines
            .lock()
            .map_err(|_| JobError::Invalid("engine cache poisoned".into()))?;
        if let Some(e) = engines.get(&model.hash) {
            return Ok(Arc::clone(e));
        }
        let parsed = Model::parse(&model.content, &self.catalogue)?;
        if parsed.hash != model.hash {
            return Err(JobError::Invalid(format!(
                "stored model {} does not match its hash",
                model.version
            )));
        }
        let engine = Arc::new(Engine::new(&self.catalogue, &parsed)?);
        engines.insert(model.hash.clone(), Arc::clone(&engine));
        Ok(engine)
    }

    /// The scorer handed to the store for inline rescoring: any stored model,
    /// as of `as_of`.
    pub fn inline_scorer(
        &self,
        as_of: Date,
    ) -> impl Fn(&StoredModel, &RawPerson) -> Result<ScoreRow, String> + Sync + '_ {
        move |model, person| {
            let engine = self.engine_for(model).map_err(|e| e.to_string())?;
            Ok(self.score_with(&engine, person, as_of))
        }
    }

    /// The stamp stored with scores from this model as of `as_of`.
    pub fn stamp(&self, as_of: Date) -> ModelStamp {
        let m = self.engine.model();
        ModelStamp {
            version: m.version().to_owned(),
            hash: m.hash.clone(),
            as_of,
        }
    }

    /// Scores a stored person as of `as_of`.
    pub fn score_row(&self, person: &RawPerson, as_of: Date) -> ScoreRow {
        self.score_with(&self.engine, person, as_of)
    }

    fn score_with(&self, engine: &Engine, person: &RawPerson, as_of: Date) -> ScoreRow {
        let input = decode_person(&self.catalogue, &self.items, person);
        let e = engine.evaluate(&input, as_of);
        ScoreRow {
            person_id: person.id,
            rev: person.rev,
            state: ScoreState {
                eligible: e.eligible,
                score: e.score,
                grade: e.grade.map(str::to_owned),
            },
            reasons: e
                .reasons
                .iter()
                .map(|r| r.code)
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// The item index map used by [`decode_person`].
    pub fn items(&self) -> &HashMap<String, usize> {
        &self.items
    }
}

/// A model as stored: its text is kept so that it can be reloaded exactly.
pub(crate) fn stored_model(m: &Model, content: &str, effective_from: Date) -> StoredModel {
    StoredModel {
        version: m.version().to_owned(),
        hash: m.hash.clone(),
        content: content.to_owned(),
        effective_from,
        status: ModelStatus::Staged,
    }
}

/// Turns stored records into the engine's input. A record whose stored
/// fields no longer decode is left out and logged: it cannot be scored.
pub fn decode_person(
    catalogue: &Catalogue,
    items: &HashMap<String, usize>,
    p: &RawPerson,
) -> PersonInput {
    let mut records = Vec::with_capacity(p.records.len());
    for r in &p.records {
        let Some(&idx) = items.get(&r.item) else {
            tracing::warn!(record = r.id, item = %r.item, "stored record has an item missing from the catalogue");
            continue;
        };
        match catalogue.items[idx].decode_stored(&r.fields) {
            Ok(fields) => records.push(Record {
                id: r.id,
                item: idx,
                date: r.date,
                status: r.status,
                fields,
            }),
            Err(e) => tracing::warn!(record = r.id, error = %e, "stored record does not decode"),
        }
    }
    PersonInput {
        birth_date: p.birth_date,
        records,
    }
}
