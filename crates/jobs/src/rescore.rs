//! Rescoring people inside a unit of work, under every model in play: the
//! path for pushes, withdrawals and decisions, whose new score is stored
//! before the caller answers.

use chengxin_store::WriteTx;
use jiff::civil::Date;

use crate::audit_events::ScoreAudit;
use crate::context::Scorer;
use crate::uow::Change;
use crate::{Context, JobError};

/// Scores `people` as of `as_of` under each of `scorers` and stores the
/// scores with their audit entries in `tx`.
pub(crate) fn rescore(
    ctx: &Context,
    tx: &mut dyn WriteTx,
    scorers: &[Scorer],
    people: &[i64],
    as_of: Date,
    change: &Change<'_>,
) -> Result<(), JobError> {
    if people.is_empty() {
        return Ok(());
    }
    for s in scorers {
        let loaded = tx.load_people(people, &s.model.version)?;
        let rows: Vec<_> = loaded.iter().map(|p| ctx.score_with(s, p, as_of)).collect();
        let stamp = s.stamp(as_of);
        let changes = tx.save_scores(&rows, &stamp, change.cause)?;
        let mut audit = ScoreAudit::new(change, &stamp);
        for c in &changes {
            audit.changed(c);
        }
        tx.append_audit(audit.finish(rows.len()));
    }
    Ok(())
}

/// The versions of `scorers`, for marking people.
pub(crate) fn versions(scorers: &[Scorer]) -> Vec<String> {
    scorers.iter().map(|s| s.model.version.clone()).collect()
}
