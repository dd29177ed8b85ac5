//! The API's handlers, one module per area. Each handler is annotated for
//! OpenAPI and registered with `routes!`, so the document cannot drift.

pub mod batches;
pub mod health;
pub mod me;
pub mod records;

/// Tag of the endpoints units call.
pub const UNITS_TAG: &str = "units";
/// Tag of the service's own endpoints.
pub const SERVICE_TAG: &str = "service";
/// Tag of the endpoints residents call about themselves.
pub const RESIDENTS_TAG: &str = "residents";
