//! Black-box tests of the HTTP service over real HTTP, on every backend.

mod auth;
mod batches;
mod bounded;
mod examples;
mod helpers;
mod records;
mod service;
