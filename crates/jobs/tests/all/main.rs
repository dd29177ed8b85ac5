//! The jobs' tests, one binary (it links once): every use case end to end
//! on every backend.

mod at_rest;
mod audit;
mod jobs;
mod lifecycle;
mod parity;
mod publish;
mod reads;
mod residents;
