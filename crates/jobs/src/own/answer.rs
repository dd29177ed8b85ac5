//! The body of `GET /me/score`, written straight from the evaluation.
//!
//! The answer was once built as a `serde_json::Value` tree (the evaluation
//! turned into a map, two keys added) and then serialised: a map node and a
//! `String` per field, all to be dropped again. This writes the same bytes
//! in one pass. A `Value` map holds its keys sorted (serde_json without
//! `preserve_order`), so every object here lists its fields in byte order of
//! their names. `the_score_answer_is_byte_for_byte_the_explanation_plus_what_if`
//! (`tests/all/own.rs`) holds it equal to [`crate::score::Explained::json`]
//! plus `what_if` over a synthetic population, so a field added to the
//! evaluation and not here fails there.

use chengxin_domain::engine::{Contribution, Factor, Reason};
use chengxin_domain::Evaluation;
use chengxin_store::StoredScore;
use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::what_if::WhatIf;

/// The evaluation, the masked ID number, the stored score and what-if.
pub(super) struct Answer<'a> {
    pub eval: &'a Evaluation<'a>,
    pub id_number_masked: &'a str,
    pub stored: Option<&'a StoredScore>,
    pub what_if: &'a [WhatIf],
}

/// The answer's bytes.
pub(super) fn to_vec(answer: &Answer<'_>) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(2048);
    serde_json::to_writer(&mut out, answer)?;
    Ok(out)
}

impl Serialize for Answer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.eval;
        let mut o = s.serialize_struct("Answer", 14)?;
        o.serialize_field("as_of", &e.as_of)?;
        o.serialize_field("contributions", &Each(&e.contributions))?;
        o.serialize_field("eligible", &e.eligible)?;
        o.serialize_field("factors", &Each(&e.factors))?;
        o.serialize_field("grade", &e.grade)?;
        o.serialize_field("grade_en", &e.grade_en)?;
        o.serialize_field("grade_zh", &e.grade_zh)?;
        o.serialize_field("id_number_masked", self.id_number_masked)?;
        o.serialize_field("model_hash", e.model_hash)?;
        o.serialize_field("model_version", e.model_version)?;
        o.serialize_field("reasons", &Each(&e.reasons))?;
        o.serialize_field("score", &e.score)?;
        o.serialize_field("stored", &self.stored.map(Sorted))?;
        o.serialize_field("what_if", &Each(self.what_if))?;
        o.end()
    }
}

/// A slice whose elements are written as [`Sorted`].
struct Each<'a, T>(&'a [T]);

impl<T> Serialize for Each<'_, T>
where
    for<'x> Sorted<&'x T>: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Sorted))
    }
}

/// A value written with its fields in name order.
struct Sorted<T>(T);

impl Serialize for Sorted<&Contribution<'_>> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut o = s.serialize_struct("Contribution", 7)?;
        o.serialize_field("best", &c.best)?;
        o.serialize_field("category", c.category)?;
        o.serialize_field("indicator", c.indicator)?;
        o.serialize_field("name_en", c.name_en)?;
        o.serialize_field("name_zh", c.name_zh)?;
        o.serialize_field("points", &c.points)?;
        o.serialize_field("records", &c.records)?;
        o.end()
    }
}

impl Serialize for Sorted<&Factor<'_>> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        let mut o = s.serialize_struct("Factor", 5)?;
        o.serialize_field("code", f.code)?;
        o.serialize_field("en", f.en)?;
        o.serialize_field("gap", &f.gap)?;
        o.serialize_field("indicator", f.indicator)?;
        o.serialize_field("zh", f.zh)?;
        o.end()
    }
}

impl Serialize for Sorted<&Reason> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut o = s.serialize_struct("Reason", 3)?;
        o.serialize_field("code", r.code)?;
        o.serialize_field("en", r.en)?;
        o.serialize_field("zh", r.zh)?;
        o.end()
    }
}

impl Serialize for Sorted<&StoredScore> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        let mut o = s.serialize_struct("StoredScore", 6)?;
        o.serialize_field("as_of", &x.as_of)?;
        o.serialize_field("model_hash", &x.model_hash)?;
        o.serialize_field("model_version", &x.model_version)?;
        o.serialize_field("person_id", &x.person_id)?;
        o.serialize_field("reasons", &x.reasons)?;
        o.serialize_field("state", &State(x))?;
        o.end()
    }
}

/// A stored score's `state`, fields in name order.
struct State<'a>(&'a StoredScore);

impl Serialize for State<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let st = &self.0.state;
        let mut o = s.serialize_struct("ScoreState", 3)?;
        o.serialize_field("eligible", &st.eligible)?;
        o.serialize_field("grade", &st.grade)?;
        o.serialize_field("score", &st.score)?;
        o.end()
    }
}

impl Serialize for Sorted<&WhatIf> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let w = self.0;
        let mut o = s.serialize_struct("WhatIf", 7)?;
        o.serialize_field("action", &w.action)?;
        skip_none(&mut o, "fulfilled_on", &w.fulfilled_on)?;
        o.serialize_field("grade_after", &w.grade_after)?;
        skip_none(&mut o, "needs_commitment", &w.needs_commitment)?;
        o.serialize_field("record_id", &w.record_id)?;
        skip_none(&mut o, "repairable_from", &w.repairable_from)?;
        o.serialize_field("score_after", &w.score_after)?;
        o.end()
    }
}

/// A field left out when `None`, as `#[serde(skip_serializing_if)]` does.
fn skip_none<S: SerializeStruct, T: Serialize>(
    o: &mut S,
    name: &'static str,
    v: &Option<T>,
) -> Result<(), S::Error> {
    match v {
        Some(v) => o.serialize_field(name, v),
        None => o.skip_field(name),
    }
}
