//! Score models: simulate a candidate over all current data, and publish it.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use chengxin_domain::publication::{may_activate, may_stage, ModelStatus};
use chengxin_domain::{Engine, Model};
use chengxin_store::{Cause, Scan, ScoreState, StoreError, StoredModel};
use crossbeam_channel::bounded;
use jiff::civil::Date;
use rayon::prelude::*;
use serde::Serialize;

use crate::context::stored_model;
use crate::recompute::{rescore_model, Progress, RecomputeSummary, Target};
use crate::rescore::rescore;
use crate::uow::{write, Change};
use crate::{Context, JobError, Scorer};

/// Summary statistics of eligible people's scores.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub eligible: u64,
    pub mean: f64,
    pub median: i32,
    pub p10: i32,
    pub p90: i32,
}

/// One of the people whose score moves most.
#[derive(Debug, Clone, Serialize)]
pub struct Mover {
    pub masked_id: String,
    pub old: Option<i32>,
    pub new: Option<i32>,
    pub delta: i32,
}

/// Old model vs candidate over everyone, as of one date.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    pub old_version: String,
    pub new_version: String,
    pub as_of: Date,
    pub persons: u64,
    /// Grade (or `ineligible`) → (old count, new count).
    pub grades: BTreeMap<String, (u64, u64)>,
    /// (old grade, new grade) → count.
    pub transitions: BTreeMap<String, BTreeMap<String, u64>>,
    pub old: Stats,
    pub new: Stats,
    pub movers: Vec<Mover>,
}

const INELIGIBLE: &str = "ineligible";

/// (|delta|, person id, old score, new score), ordered by the size of the move.
type Move = (i32, i64, Option<i32>, Option<i32>);

fn label(s: &ScoreState) -> String {
    s.grade.clone().unwrap_or_else(|| INELIGIBLE.to_owned())
}

fn stats(mut scores: Vec<i32>) -> Stats {
    if scores.is_empty() {
        return Stats::default();
    }
    scores.sort_unstable();
    let n = scores.len();
    let at = |q: f64| scores[((n as f64 - 1.0) * q).round() as usize];
    let mean = scores.iter().map(|&s| f64::from(s)).sum::<f64>() / n as f64;
    Stats {
        eligible: n as u64,
        mean: (mean * 10.0).round() / 10.0,
        median: at(0.5),
        p10: at(0.1),
        p90: at(0.9),
    }
}

/// Runs `candidate` over everyone's current records as of `as_of`, beside the
/// model in force, without storing anything.
pub fn simulate(
    current: &Context,
    candidate: &Model,
    as_of: Date,
    movers: usize,
) -> Result<Simulation, JobError> {
    let active = current.active(&mut *current.store.read()?)?;
    let next = Scorer {
        model: active.model.clone(),
        engine: std::sync::Arc::new(Engine::new(&active.catalogue, candidate)?),
        catalogue: std::sync::Arc::clone(&active.catalogue),
    };
    let version = active.model.version.clone();
    let (tx, rx) = bounded(4);
    let store = &current.store;
    let mut grades: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut transitions: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let (mut old_scores, mut new_scores) = (Vec::new(), Vec::new());
    let mut top: BinaryHeap<Reverse<Move>> = BinaryHeap::new();
    let mut persons = 0u64;
    let scanned = std::thread::scope(|s| {
        let scanner = s.spawn(move || {
            store.scan(
                Scan::All {
                    model_version: &version,
                },
                4096,
                &mut |b| {
                    tx.send(b)
                        .map_err(|_| StoreError::Conflict("simulation stopped".into()))
                },
            )
        });
        for batch in rx {
            let pairs: Vec<_> = batch
                .par_iter()
                .map(|p| {
                    (
                        p.id,
                        current.score_with(&active, p, as_of).state,
                        current.score_with(&next, p, as_of).state,
                    )
                })
                .collect();
            for (id, old, new) in pairs {
                persons += 1;
                grades.entry(label(&old)).or_default().0 += 1;
                grades.entry(label(&new)).or_default().1 += 1;
                *transitions
                    .entry(label(&old))
                    .or_default()
                    .entry(label(&new))
                    .or_default() += 1;
                old_scores.extend(old.score);
                new_scores.extend(new.score);
                let delta = new.score.unwrap_or(0) - old.score.unwrap_or(0);
                top.push(Reverse((delta.abs(), id, old.score, new.score)));
                if top.len() > movers {
                    top.pop();
                }
            }
        }
        scanner
            .join()
            .unwrap_or_else(|_| Err(StoreError::Corrupt("scanner panicked".into())))
    });
    scanned?;
    let mut list: Vec<_> = top.into_iter().map(|Reverse(t)| t).collect();
    list.sort_by_key(|&(d, id, _, _)| (Reverse(d), id));
    let mut out = Vec::new();
    let mut reads = Vec::new();
    let mut tx = current.store.read()?;
    for (_, id, old, new) in list {
        let identity = tx
            .identity(id)?
            .ok_or_else(|| JobError::Invalid(format!("person {id} vanished")))?;
        // Each mover's identity is decrypted to be shown (masked): a read.
        reads.push(chengxin_domain::audit::AuditEvent {
            actor: current.actor().to_owned(),
            action: "person.read".into(),
            subject: Some(format!("person:{id}")),
            person: Some(chengxin_store::person_ref(&identity.index)),
            request_id: None,
            detail: serde_json::json!({
                "what": "model simulation mover", "model_version": candidate.version(),
            }),
        });
        let idn = identity.id_number;
        out.push(Mover {
            masked_id: idn.masked(),
            old,
            new,
            delta: new.unwrap_or(0) - old.unwrap_or(0),
        });
    }
    drop(tx);
    current.store.append_reads(reads)?;
    Ok(Simulation {
        old_version: active.model.version,
        new_version: candidate.version().to_owned(),
        as_of,
        persons,
        grades,
        transitions,
        old: stats(old_scores),
        new: stats(new_scores),
        movers: out,
    })
}

/// Publishes a model: stores it staged, scores everyone under it, then makes
/// it the model in force in one step. A crash before that step leaves the
/// old model fully in force (its scores and marks untouched); publishing
/// again resumes cleanly.
pub fn publish(
    ctx: &Context,
    text: &str,
    effective_from: Date,
    as_of: Date,
    progress: &dyn Progress,
) -> Result<RecomputeSummary, JobError> {
    let (staged, summary) = stage_and_score(ctx, text, effective_from, as_of, progress)?;
    activate(ctx, &staged.version, as_of)?;
    Ok(summary)
}

/// The first half of [`publish`]: stages the model and scores everyone under
/// it, then those whose records changed meanwhile. Nothing is in force yet.
pub fn stage_and_score(
    ctx: &Context,
    text: &str,
    effective_from: Date,
    as_of: Date,
    progress: &dyn Progress,
) -> Result<(StoredModel, RecomputeSummary), JobError> {
    let model = Model::parse(text, &ctx.catalogue())?;
    let stored = stored_model(&model, text, effective_from);
    write(&*ctx.store, |tx| {
        may_stage(&stored.version, tx.model_status(&stored.version)?)?;
        tx.put_staged_model(&stored)?;
        Ok(())
    })?;
    let scorer = ctx.scorer(stored.clone())?;
    let cause = Cause::ModelPublish;
    let summary = rescore_model(ctx, &scorer, Target::Everyone, as_of, cause, progress)?;
    rescore_model(ctx, &scorer, Target::Changed, as_of, cause, &())?;
    Ok((stored, summary))
}

/// People scored per round while a model is put in force.
const CATCH_UP: usize = 1000;

/// The second half of [`publish`]: puts a staged model in force and retires
/// the one before. No record changes meanwhile (the change of state waits for
/// the writers in flight and holds back new ones), so the people still
/// marked under the staged model are scored first, in the same step: the
/// model comes into force with every score current.
pub fn activate(ctx: &Context, version: &str, as_of: Date) -> Result<(), JobError> {
    let change = Change::bulk(Cause::ModelPublish, ctx.actor());
    write(&*ctx.store, |tx| {
        may_activate(version, tx.model_status(version)?)?;
        let previous = tx.active_model()?;
        tx.set_model_status(version, ModelStatus::Active)?;
        let staged = tx
            .models()?
            .into_iter()
            .find(|m| m.version == version)
            .ok_or_else(|| JobError::Invalid(format!("model {version} vanished")))?;
        let scorer = ctx.scorer(staged)?;
        loop {
            let marked = tx.marked_people(version, CATCH_UP)?;
            if marked.is_empty() {
                break;
            }
            rescore(
                ctx,
                tx,
                std::slice::from_ref(&scorer),
                &marked,
                as_of,
                &change,
            )?;
            if tx.marked_people(version, CATCH_UP)? == marked {
                return Err(JobError::Invalid(format!(
                    "people marked under {version} could not be scored"
                )));
            }
        }
        if let Some(old) = previous.filter(|m| m.version != version) {
            tx.set_model_status(&old.version, ModelStatus::Retired)?;
            tx.clear_marks(&old.version)?;
        }
        Ok(())
    })
}
