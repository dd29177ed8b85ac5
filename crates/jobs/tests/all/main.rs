//! The jobs' tests, one binary (it links once): every use case end to end
//! on every backend.

mod at_rest;
mod audit;
mod batches;
mod calendar;
mod catalogue;
mod input;
mod jobs;
mod keys;
mod lifecycle;
mod own;
mod parity;
mod publish;
mod reads;
mod residents;
mod rotation;
mod staff;
mod transit;
mod versions;
