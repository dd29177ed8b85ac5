//! A resident's own data (第十六、十七条: free real-name self-query): their
//! score with its explanation and what-if, history, records, notifications,
//! who else read or changed their data, and everything in one export
//! (PIPL Art. 45).
//!
//! Each use case reads one snapshot, then records the read as an audit entry
//! made by `resident:<blind index>` that is durable before it returns (read
//! entries of concurrent callers share one commit). A resident unknown to
//! the platform is answered from their ID number alone: no records, and the
//! engine says why there is no score.

mod access;
mod answer;
mod export;
mod history;
mod records;
mod what_if;

pub use access::{access_log, Access};
pub use export::export;
pub use history::{history, notifications, Notification, ScoreChange};
pub(crate) use records::build as build_records;
pub use records::{records, OwnRecord};
pub use what_if::{evaluate, score, score_audited, what_if, OwnScore, WhatIf, WhatIfAction};

use chengxin_domain::IdNumber;

use crate::{Context, JobError};

/// The audit actor naming a resident: `resident:<hex blind index>`.
pub fn actor(index: &[u8]) -> String {
    format!("resident:{}", chengxin_store::person_ref(index))
}

/// The person's blind index and id, if the platform knows them.
pub(crate) fn find(ctx: &Context, id: &IdNumber) -> Result<([u8; 32], Option<i64>), JobError> {
    let index = ctx.store.keys().blind_index(id.as_str().as_bytes());
    let person = ctx.store.read()?.find_person(&index)?;
    Ok((index, person))
}

/// Records that the resident read their own `what`; returns once durable.
pub(crate) fn audit_own_read(
    ctx: &Context,
    index: &[u8],
    person_id: Option<i64>,
    request_id: Option<&str>,
    what: &str,
) -> Result<(), JobError> {
    crate::audit::record_read_of(ctx, &actor(index), index, person_id, request_id, what)
}

/// [`audit_own_read`], with `value` handed out once the entry is durable.
pub(crate) fn audited_own_read<T>(
    ctx: &Context,
    value: T,
    index: &[u8],
    person_id: Option<i64>,
    request_id: Option<&str>,
    what: &str,
) -> crate::audit::Audited<T> {
    crate::audit::audited_read_of(
        ctx,
        value,
        &actor(index),
        index,
        person_id,
        request_id,
        what,
    )
}
