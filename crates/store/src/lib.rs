//! Persistence for Chengxin: the `Store` trait, its SQLite and PostgreSQL
//! backends, and encryption of personal data at rest. Knows nothing of HTTP.

pub mod crypto;
