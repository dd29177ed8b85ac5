//! Black-box tests of the HTTP service over real HTTP, on every backend.

mod auth;
mod batches;
mod commitments;
mod examples;
mod helpers;
mod me;
mod records;
mod self_reports;
mod service;
mod tokens;
