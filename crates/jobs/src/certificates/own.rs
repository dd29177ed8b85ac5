//! A certificate of the resident's own grade, embedded in their printable
//! credit report so that anyone holding the paper can verify it.

use super::{issue, Ask, CertError, Issued};
use crate::resident::Resident;
use crate::Context;

/// The audience whose pseudonym a report certificate's `sub` is: the
/// resident's reports all carry the same one, unlinkable to any party's.
pub const REPORT_AUDIENCE: &str = "resident-report";

/// Signs a certificate of the resident's grade under the model in force
/// (the same signing as a party's certificate, valid 30 days), audited as
/// the resident's read of their own data, like their other reads, whether
/// or not there was a score to certify.
pub fn issue_own(ctx: &Context, resident: Resident<'_>, now: i64) -> Result<Issued, CertError> {
    let person = resident.find(ctx, &mut *ctx.store.read()?)?;
    let issued = match person {
        Some(p) => issue(ctx, p, REPORT_AUDIENCE, Ask::Grade, now),
        None => Err(CertError::NoScore),
    };
    resident.audit_read(ctx, person, "report certificate")?;
    issued
}
