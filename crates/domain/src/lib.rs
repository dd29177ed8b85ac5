//! Pure domain types and rules of the Chengxin personal integrity score:
//! ID numbers, eligibility, the catalogue, records, commitments, score models
//! and the engine. No I/O, no async, no SQL.

pub mod audit;
pub mod authorisation;
pub mod calendar;
pub mod catalogue;
pub mod certificate;
pub mod commitment;
pub mod dates;
pub mod district;
pub mod eligibility;
pub mod engine;
pub mod id;
pub mod model;
pub mod objection;
pub mod party;
pub mod publication;
pub mod record;
pub mod repair;
pub mod scenario;
pub mod self_report;
pub mod staff;
pub mod text;

pub use catalogue::Catalogue;
pub use engine::{Engine, Evaluation};
pub use id::IdNumber;
pub use model::Model;
