//! `GET /me/records`: every version of every record held about the
//! resident, with its state and whether it counts in today's score.

use std::collections::{BTreeMap, HashSet};

use chengxin_domain::catalogue::Category;
use chengxin_domain::record::RecordStatus;
use chengxin_domain::IdNumber;
use jiff::civil::Date;
use serde::Serialize;

use crate::score::{load, Explained};
use crate::{Context, JobError};

/// One record version as the resident sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OwnRecord {
    pub id: i64,
    pub item: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    /// The reporting unit's code.
    pub unit: String,
    pub unit_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub fields: serde_json::Value,
    /// `active`, `disputed`, `repaired`, `withdrawn`, `corrected`, `pending`, `rejected`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "active"))]
    pub state: RecordStatus,
    /// Whether it counts in today's score: its state counts, and the score
    /// cites it (or, for a basic item, eligibility rests on it).
    pub counts: bool,
    pub version: i32,
}

/// Every record version held about the resident, oldest first; audited.
pub fn records(
    ctx: &Context,
    id: &IdNumber,
    as_of: Date,
    request_id: Option<&str>,
) -> Result<Vec<OwnRecord>, JobError> {
    let Some(x) = load(ctx, id, as_of, true)? else {
        let (index, _) = super::find(ctx, id)?;
        super::audit_own_read(ctx, &index, None, request_id, "records")?;
        return Ok(Vec::new());
    };
    let out = build(ctx, &x, as_of)?;
    super::audit_own_read(ctx, &x.index, Some(x.person_id), request_id, "records")?;
    Ok(out)
}

/// The resident's view of the record versions of an explanation.
pub(crate) fn build(ctx: &Context, x: &Explained, as_of: Date) -> Result<Vec<OwnRecord>, JobError> {
    let eval = x.evaluation();
    let cited: HashSet<i64> = eval
        .contributions
        .iter()
        .flat_map(|c| c.records.iter().copied())
        .collect();
    let unit_names: BTreeMap<String, String> = ctx
        .store
        .read()?
        .units()?
        .into_iter()
        .map(|u| (u.code, u.name))
        .collect();
    let out = x
        .records
        .iter()
        .map(|r| {
            let item = x.catalogue.item(&r.item);
            let basic = item.is_some_and(|i| i.category == Category::Basic);
            OwnRecord {
                id: r.id,
                item: r.item.clone(),
                item_name_zh: item.map(|i| i.name_zh.clone()).unwrap_or_default(),
                item_name_en: item.map(|i| i.name_en.clone()).unwrap_or_default(),
                unit: r.unit.clone(),
                unit_name: unit_names.get(&r.unit).cloned(),
                date: r.date,
                fields: r.fields.clone(),
                state: r.status,
                counts: r.status.counts() && r.date <= as_of && (basic || cited.contains(&r.id)),
                version: r.version,
            }
        })
        .collect();
    Ok(out)
}
