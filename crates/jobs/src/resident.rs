//! A resident acting on their own data (`/me…`): who they are, how the audit
//! log names them, and how their reads are recorded.

use chengxin_domain::catalogue::Catalogue;
use chengxin_domain::record::Record;
use chengxin_domain::IdNumber;
use chengxin_store::ReadTx;

use crate::{Context, JobError};

/// The `unit` of records whose source is the resident themself (commitments
/// they sign, reports they submit). Unit codes are upper case, so no
/// cooperating unit can ever hold this one and push, correct or withdraw
/// residents' own records.
pub const RESIDENT_SOURCE: &str = "resident";

/// A signed-in resident, as the identity provider named them.
#[derive(Debug, Clone, Copy)]
pub struct Resident<'a> {
    pub id_number: &'a IdNumber,
    pub name: Option<&'a str>,
    /// The HTTP request id, recorded in audit entries.
    pub request_id: Option<&'a str>,
}

impl Resident<'_> {
    /// The resident's blind index.
    pub fn index(&self, ctx: &Context) -> [u8; 32] {
        ctx.store
            .keys()
            .blind_index(self.id_number.as_str().as_bytes())
    }

    /// The audit actor, `resident:<blind index>`.
    pub fn actor(&self, ctx: &Context) -> String {
        crate::me::resident_actor(ctx, self.id_number)
    }

    /// The resident's person id, if the platform has ever stored anything
    /// about them.
    pub fn find<T: ReadTx + ?Sized>(
        &self,
        ctx: &Context,
        tx: &mut T,
    ) -> Result<Option<i64>, JobError> {
        Ok(tx.find_person(&self.index(ctx))?)
    }

    /// Records that the resident read `what` of their own data (`None`: the
    /// platform holds nothing about them yet); returns once the entry is
    /// durable.
    pub fn audit_read(
        &self,
        ctx: &Context,
        person_id: Option<i64>,
        what: &str,
    ) -> Result<(), JobError> {
        crate::audit::record_read_of(
            ctx,
            &self.actor(ctx),
            &self.index(ctx),
            person_id,
            self.request_id,
            what,
        )
    }
}

/// The newest version of each of a person's record cases, decoded for the
/// domain's rules (a version whose fields no longer decode is left out).
pub(crate) fn current_records<T: ReadTx + ?Sized>(
    ctx: &Context,
    tx: &mut T,
    person_id: i64,
) -> Result<Vec<Record>, JobError> {
    let mut stored = tx.person_records(person_id)?;
    // Newest version of each case last, then keep the last of each case.
    stored.sort_by(|a, b| {
        (&a.unit, &a.source_id, a.version).cmp(&(&b.unit, &b.source_id, b.version))
    });
    let mut heads: Vec<chengxin_store::StoredRecord> = Vec::with_capacity(stored.len());
    for r in stored {
        match heads.last_mut() {
            Some(h) if h.unit == r.unit && h.source_id == r.source_id => *h = r,
            _ => heads.push(r),
        }
    }
    heads.sort_by_key(|r| r.id);
    Ok(heads
        .into_iter()
        .filter_map(|r| decode(&ctx.catalogue(), &r))
        .collect())
}

fn decode(catalogue: &Catalogue, r: &chengxin_store::StoredRecord) -> Option<Record> {
    let idx = catalogue.position(&r.item)?;
    let fields = catalogue.items[idx]
        .decode_stored(&r.fields.to_string())
        .map_err(|e| tracing::warn!(record = r.id, error = %e, "stored record does not decode"))
        .ok()?;
    Some(Record {
        id: r.id,
        item: idx,
        date: r.date,
        status: r.status,
        fields,
    })
}
