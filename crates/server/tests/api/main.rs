//! Black-box tests of the HTTP service over real HTTP, on every backend.

mod api_shape;
mod auth;
mod authorisations;
mod batches;
mod bounded;
mod catalogue;
mod certificates;
mod commitments;
mod demo_idp;
mod examples;
mod helpers;
mod input;
mod me;
mod me_data;
mod objections;
mod party_uses;
mod records;
mod repairs;
mod role_matrix;
mod scenarios;
mod self_reports;
mod service;
mod staff;
mod statistics;
mod tokens;
