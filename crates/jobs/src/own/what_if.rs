//! `GET /me/score`: the explained score plus what-if — the score if each
//! record that credit repair can reach were repaired, and if each running
//! commitment were fulfilled, both computed by the engine.

use chengxin_domain::commitment::CommitmentOutcome;
use chengxin_domain::record::{PersonInput, RecordStatus};
use chengxin_domain::repair;
use chengxin_domain::IdNumber;
use jiff::civil::Date;
use serde::Serialize;

use super::answer::{self, Answer};
use crate::audit::Audited;
use crate::score::{load, Explained};
use crate::{Context, JobError};

/// What a what-if line supposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WhatIfAction {
    /// The record is repaired (信用修复) and stops counting.
    Repair,
    /// The commitment's term ends with no breach.
    Fulfil,
}

/// One what-if line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhatIf {
    pub record_id: i64,
    pub action: WhatIfAction,
    /// The score after (`None`: no score, e.g. not eligible).
    pub score_after: Option<i32>,
    pub grade_after: Option<String>,
    /// Repair: the first day a repair application may be made (it may be
    /// later than today: the score is what repair would give once made).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repairable_from: Option<Date>,
    /// Repair: whether a credit commitment must be signed first (none is running).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_commitment: Option<bool>,
    /// Fulfil: the day the term ends; the score is as of that day, from the
    /// records held today.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfilled_on: Option<Date>,
}

/// A resident's own score.
#[derive(Debug)]
pub struct OwnScore {
    /// The explanation, or `None` for a person the platform has no records of.
    pub explained: Option<Explained>,
    pub what_if: Vec<WhatIf>,
    body: Vec<u8>,
}

impl OwnScore {
    /// The answer of `GET /me/score` as JSON text: the fields of
    /// `chengxin score --json` plus `what_if`.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// [`OwnScore::body`], taken.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// [`OwnScore::body`] as a JSON value.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

/// The resident's score as of `as_of`, explained, with what-if; audited.
pub fn score(
    ctx: &Context,
    id: &IdNumber,
    as_of: Date,
    request_id: Option<&str>,
) -> Result<OwnScore, JobError> {
    score_audited(ctx, id, as_of, request_id)?.wait()
}

/// [`score`], handed out once its audit entry is durable: a server awaits
/// that without holding a thread.
pub fn score_audited(
    ctx: &Context,
    id: &IdNumber,
    as_of: Date,
    request_id: Option<&str>,
) -> Result<Audited<OwnScore>, JobError> {
    let (own, index) = evaluate(ctx, id, as_of)?;
    let person_id = own.explained.as_ref().map(|x| x.person_id);
    Ok(super::audited_own_read(
        ctx, own, &index, person_id, request_id, "score",
    ))
}

/// [`score`] without its audit entry, and the person's blind index. Only
/// for benchmarks comparing a read with and without its audit entry: every
/// service path calls [`score`].
pub fn evaluate(
    ctx: &Context,
    id: &IdNumber,
    as_of: Date,
) -> Result<(OwnScore, Vec<u8>), JobError> {
    let explained = load(ctx, id, as_of, false)?;
    let masked = id.masked();
    let invalid = |e: serde_json::Error| JobError::Invalid(e.to_string());
    let (index, body, what_if) = match &explained {
        Some(x) => {
            let what_if = what_if(ctx, x);
            let body = answer::to_vec(&Answer {
                eval: &x.evaluation(),
                id_number_masked: &masked,
                stored: x.stored.as_ref(),
                what_if: &what_if,
            })
            .map_err(invalid)?;
            (x.index.clone(), body, what_if)
        }
        None => {
            let index = ctx.store.keys().blind_index(id.as_str().as_bytes());
            let scorer = ctx.active(&mut *ctx.store.read()?)?;
            let input = PersonInput {
                birth_date: id.birth_date(),
                records: Vec::new(),
            };
            let body = answer::to_vec(&Answer {
                eval: &scorer.engine.evaluate(&input, as_of),
                id_number_masked: &masked,
                stored: None,
                what_if: &[],
            })
            .map_err(invalid)?;
            (index.to_vec(), body, Vec::new())
        }
    };
    Ok((
        OwnScore {
            explained,
            what_if,
            body,
        },
        index,
    ))
}

/// The what-if lines of an explanation: repair of each counting record
/// repair can reach, then fulfilment of each running commitment.
pub fn what_if(_ctx: &Context, x: &Explained) -> Vec<WhatIf> {
    let as_of = x.as_of;
    let commitments = x.engine.commitments(&x.input, as_of);
    let mut out = Vec::new();
    for r in x.input.records.iter().filter(|r| r.status.counts()) {
        // The repair workflow's own rule (what an application would meet).
        let Some(a) = repair::assess(&x.catalogue, r, &x.input.records, as_of) else {
            continue;
        };
        let mut input = x.input.clone();
        for other in input.records.iter_mut().filter(|o| o.id == r.id) {
            other.status = RecordStatus::Repaired;
        }
        let e = x.engine.evaluate(&input, as_of);
        out.push(WhatIf {
            record_id: r.id,
            action: WhatIfAction::Repair,
            score_after: e.score,
            grade_after: e.grade.map(str::to_owned),
            repairable_from: Some(a.reach.repairable_from),
            needs_commitment: Some(a.needs_commitment),
            fulfilled_on: None,
        });
    }
    for (record_id, _, end, outcome) in commitments {
        if outcome != CommitmentOutcome::Running {
            continue;
        }
        let e = x.engine.evaluate(&x.input, end);
        out.push(WhatIf {
            record_id,
            action: WhatIfAction::Fulfil,
            score_after: e.score,
            grade_after: e.grade.map(str::to_owned),
            repairable_from: None,
            needs_commitment: None,
            fulfilled_on: Some(end),
        });
    }
    out
}
