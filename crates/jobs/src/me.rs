//! A resident's own data, read by the resident (第十七条: free real-name
//! self-query). Every read is audited with the resident as the actor.

use chengxin_domain::IdNumber;

use crate::Context;

/// The audit actor for a signed-in resident: `resident:` and the hex of
/// their blind index, so the log never holds their ID number in clear.
pub fn resident_actor(ctx: &Context, id: &IdNumber) -> String {
    crate::own::actor(&ctx.store.keys().blind_index(id.as_str().as_bytes()))
}
