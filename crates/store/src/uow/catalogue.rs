//! The catalogue and the commitment templates as versioned data (第十一条).

use jiff::civil::Date;

use crate::Result;

/// Which versioned data a row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataKind {
    Catalogue,
    Templates,
}

impl DataKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::Catalogue => "catalogue",
            DataKind::Templates => "templates",
        }
    }
}

/// One published version of the catalogue or of the templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataVersionRow {
    pub kind: DataKind,
    /// 1, 2, …: the highest is in force.
    pub number: i64,
    /// The file's `version`, e.g. `2026.2`.
    pub label: String,
    pub hash: String,
    /// The TOML text as published.
    pub content: String,
    pub effective_from: Date,
    /// Unix seconds.
    pub published_at: i64,
    pub published_by: String,
}

/// A stored record version's fields, as a catalogue check reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFieldsRow {
    pub id: i64,
    pub item: String,
    /// Canonical JSON.
    pub fields: String,
    /// The catalogue version it was validated against.
    pub catalogue_version: i64,
}

/// Reads of the versioned catalogue and templates.
pub trait CatalogueRead {
    /// Every version of `kind`, oldest first.
    fn data_versions(&mut self, kind: DataKind) -> Result<Vec<DataVersionRow>>;
    /// The version of `kind` in force (the highest number), if any is stored.
    fn data_in_force(&mut self, kind: DataKind) -> Result<Option<DataVersionRow>>;
    /// The numbers of the catalogue and templates versions in force (0: none
    /// stored). On PostgreSQL a writer holds a shared lock from here until it
    /// commits, so a publication waits for the writers that read the old numbers.
    fn data_numbers(&mut self) -> Result<(i64, i64)>;
    /// Up to `limit` record versions (every state) with ids above
    /// `after_id`, in id order.
    fn record_fields_after(&mut self, after_id: i64, limit: usize) -> Result<Vec<RecordFieldsRow>>;
}

/// Publishing a version.
pub trait CatalogueWrite {
    /// Waits for the writers that read the numbers in force and holds back
    /// new ones until this unit of work ends.
    fn lock_data_versions(&mut self) -> Result<()>;
    /// Stores a version; `false` if its number or label is taken.
    fn insert_data_version(&mut self, row: &DataVersionRow) -> Result<bool>;
}
