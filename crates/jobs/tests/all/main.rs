//! The jobs' tests, one binary (it links once): every use case end to end
//! on every backend.

mod at_rest;
mod audit;
mod authorisations;
mod batches;
mod calendar;
mod catalogue;
mod certificates;
mod daily;
mod input;
mod jobs;
mod keys;
mod lifecycle;
mod objections;
mod own;
mod parity;
mod publish;
mod reads;
mod repairs;
mod residents;
mod rotation;
mod scenarios;
mod staff;
mod stats;
mod transit;
mod versions;
