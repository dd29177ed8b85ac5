//! The PostgreSQL backend (being written).
use crate::crypto::DataKeys;
use crate::Store;
/// The PostgreSQL store.
pub struct PgStore;
impl PgStore {
    /// Opens.
    pub fn open(_url: &str, _keys: DataKeys) -> crate::Result<Box<dyn Store>> {
        let _ = crate::migrate::POSTGRES;
        Err(crate::StoreError::BadUrl("postgres not yet".into()))
    }
}
