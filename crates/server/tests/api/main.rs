//! Black-box tests of the HTTP service over real HTTP, on every backend.

mod auth;
mod batches;
mod bounded;
mod catalogue;
mod commitments;
mod demo_idp;
mod examples;
mod helpers;
mod input;
mod me;
mod me_data;
mod records;
mod self_reports;
mod service;
mod staff;
mod tokens;
