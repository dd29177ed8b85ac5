//! The catalogue, the model in force and the store, bound together.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chengxin_domain::record::{PersonInput, Record};
use chengxin_domain::{Catalogue, Engine, Model};
use chengxin_store::{
    ModelStamp, ModelStatus, RawPerson, ReadTx, ScoreRow, ScoreState, Store, StoredModel, WriteTx,
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
    #[error(transparent)]
    Publication(#[from] chengxin_domain::publication::PublicationError),
    /// Records were validated against a catalogue version no longer in force.
    #[error("catalogue version {in_force} was published while the records were checked against version {validated}; send them again")]
    CatalogueChanged { validated: i64, in_force: i64 },
}

/// A store with the catalogue, and the engines for the models it holds.
///
/// No model is fixed when the context is made: every use case reads the
/// models it works under from the store, in its own unit of work, so a
/// long-running process (the server) follows a publish without a restart.
pub struct Context {
    pub store: Arc<dyn Store>,
    /// The catalogue in force as last read from the store (see
    /// [`Context::catalogue_now`]): swapped whole, never changed in place.
    catalogue: RwLock<Arc<Catalogue>>,
    /// Engines for stored models, by catalogue and templates versions and
    /// content hash, built once each.
    engines: Mutex<HashMap<(i64, i64, String), Arc<Engine>>>,
    /// Who the bulk jobs run through this context are audited as.
    actor: String,
    /// This city's certificate settings (issuer, signing key directory).
    certificates: Arc<crate::certificates::CertConfig>,
}

/// A stored model with the engine that scores under it, and the catalogue
/// the engine was built for (records are decoded with it).
#[derive(Clone)]
pub struct Scorer {
    pub model: StoredModel,
    pub engine: Arc<Engine>,
    pub catalogue: Arc<Catalogue>,
}

impl Scorer {
    /// A stored person as this scorer's engine reads them.
    pub fn decode(&self, person: &RawPerson) -> PersonInput {
        decode_person(&self.catalogue, person)
    }

    /// The stamp stored with scores from this model as of `as_of`.
    pub fn stamp(&self, as_of: Date) -> ModelStamp {
        ModelStamp {
            version: self.model.version.clone(),
            hash: self.model.hash.clone(),
            as_of,
        }
    }
}

impl Context {
    /// Binds to a store; installs the built-in model `2026.1` on first use.
    pub fn new(store: Arc<dyn Store>) -> Result<Context, JobError> {
        let ctx = Context {
            store,
            catalogue: RwLock::new(Arc::new(Catalogue::builtin())),
            engines: Mutex::new(HashMap::new()),
            actor: crate::SYSTEM.to_owned(),
            certificates: Arc::default(),
        };
        crate::catalogue::install_builtin(&ctx)?;
        ctx.catalogue_now()?;
        if ctx.store.read()?.active_model()?.is_none() {
            let m = Model::builtin(&ctx.catalogue());
            let stored = stored_model(
                &m,
                chengxin_domain::model::DEFAULT_MODEL,
                Date::constant(2026, 1, 1),
            );
            crate::uow::write(&*ctx.store, |tx| {
                if tx.active_model()?.is_some() {
                    return Ok(()); // another process installed it meanwhile
                }
                tx.put_staged_model(&stored)?;
                tx.set_model_status(&stored.version, ModelStatus::Active)?;
                Ok(())
            })?;
        }
        Ok(ctx)
    }

    /// A context over the same store and settings whose jobs are audited
    /// as `actor` (e.g. `staff:NAME` for a publication from the console);
    /// its engine cache starts empty.
    pub fn acting_as(&self, actor: impl Into<String>) -> Context {
        Context {
            store: Arc::clone(&self.store),
            catalogue: RwLock::new(self.catalogue()),
            engines: Mutex::new(HashMap::new()),
            actor: actor.into(),
            certificates: Arc::clone(&self.certificates),
        }
    }

    /// The same context, auditing the jobs run through it (imports,
    /// recomputes, publications, reads by the CLI) as `actor`, e.g.
    /// `operator:wang`.
    pub fn with_actor(mut self, actor: impl Into<String>) -> Context {
        self.actor = actor.into();
        self
    }

    /// The same context with this city's certificate settings.
    pub fn with_certificates(mut self, config: crate::certificates::CertConfig) -> Context {
        self.certificates = Arc::new(config);
        self
    }

    /// This city's certificate settings.
    pub fn certificates(&self) -> &crate::certificates::CertConfig {
        &self.certificates
    }

    /// The audit actor of jobs run through this context.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The catalogue in force as last read from the store. Reads for
    /// display use it; use cases that validate input or score call
    /// [`Context::catalogue_now`] or go through [`Context::active`] /
    /// [`Context::in_play`], which follow a publication made elsewhere.
    pub fn catalogue(&self) -> Arc<Catalogue> {
        match self.catalogue.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The catalogue in force now, read from the store (one small query; the
    /// documents are loaded again only when a new version was published).
    pub fn catalogue_now(&self) -> Result<Arc<Catalogue>, JobError> {
        self.sync_catalogue(&mut *self.store.read()?)
    }

    /// The catalogue in force as `tx` sees it, replacing the cached one if
    /// a version was published since.
    pub fn sync_catalogue(&self, tx: &mut dyn ReadTx) -> Result<Arc<Catalogue>, JobError> {
        let numbers = tx.data_numbers()?;
        let cached = self.catalogue();
        if numbers == (cached.number, cached.templates_number) || numbers.0 == 0 {
            return Ok(cached);
        }
        let loaded = Arc::new(crate::catalogue::load(tx)?);
        if let Ok(mut slot) = self.catalogue.write() {
            if (slot.number, slot.templates_number) < (loaded.number, loaded.templates_number) {
                *slot = Arc::clone(&loaded);
            }
        }
        Ok(loaded)
    }

    /// The engine for a stored model under the catalogue in force, built
    /// from its text on first use.
    pub fn engine_for(&self, model: &StoredModel) -> Result<Arc<Engine>, JobError> {
        self.engine_with(&self.catalogue(), model)
    }

    /// The engine for a stored model under `catalogue`.
    fn engine_with(
        &self,
        catalogue: &Catalogue,
        model: &StoredModel,
    ) -> Result<Arc<Engine>, JobError> {
        let key = (
            catalogue.number,
            catalogue.templates_number,
            model.hash.clone(),
        );
        let mut engines = self
            .engines
            .lock()
            .map_err(|_| JobError::Invalid("engine cache poisoned".into()))?;
        if let Some(e) = engines.get(&key) {
            return Ok(Arc::clone(e));
        }
        let parsed = Model::parse(&model.content, catalogue)?;
        if parsed.hash != model.hash {
            return Err(JobError::Invalid(format!(
                "stored model {} does not match its hash",
                model.version
            )));
        }
        let engine = Arc::new(Engine::new(catalogue, &parsed)?);
        engines.insert(key, Arc::clone(&engine));
        Ok(engine)
    }

    /// A scorer for a stored model, under the catalogue in force.
    pub fn scorer(&self, model: StoredModel) -> Result<Scorer, JobError> {
        self.scorer_with(self.catalogue(), model)
    }

    /// A scorer for a stored model under `catalogue`.
    pub fn scorer_with(
        &self,
        catalogue: Arc<Catalogue>,
        model: StoredModel,
    ) -> Result<Scorer, JobError> {
        let engine = self.engine_with(&catalogue, &model)?;
        Ok(Scorer {
            model,
            engine,
            catalogue,
        })
    }

    /// The model in force, as a scorer under the catalogue in force.
    pub fn active(&self, tx: &mut dyn ReadTx) -> Result<Scorer, JobError> {
        let catalogue = self.sync_catalogue(tx)?;
        let model = tx
            .active_model()?
            .ok_or_else(|| JobError::Invalid("no score model is in force".into()))?;
        self.scorer_with(catalogue, model)
    }

    /// Scorers for the models in play in a write unit of work. A staged
    /// model whose text no longer loads is skipped with a warning; the model
    /// in force failing is an error.
    pub fn in_play(&self, tx: &mut dyn WriteTx) -> Result<Vec<Scorer>, JobError> {
        let catalogue = self.sync_catalogue(tx)?;
        let mut out = Vec::new();
        let mut models = tx.models_in_play()?;
        // The model in force first: its failure is the one that matters.
        models.sort_by_key(|m| m.status != ModelStatus::Active);
        for m in models {
            match self.scorer_with(Arc::clone(&catalogue), m.clone()) {
                Ok(s) => out.push(s),
                Err(e) if m.status == ModelStatus::Staged => {
                    tracing::warn!(model = %m.version, error = %e, "staged model cannot score; skipped");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Scores a stored person under `scorer` as of `as_of`.
    pub fn score_with(&self, scorer: &Scorer, person: &RawPerson, as_of: Date) -> ScoreRow {
        let input = scorer.decode(person);
        let e = scorer.engine.evaluate(&input, as_of);
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
            next_change: scorer.engine.next_change(&input, as_of),
        }
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
pub fn decode_person(catalogue: &Catalogue, p: &RawPerson) -> PersonInput {
    let mut records = Vec::with_capacity(p.records.len());
    for r in &p.records {
        let Some(idx) = catalogue.position(&r.item) else {
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
