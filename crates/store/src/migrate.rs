//! Embedded migrations, applied in order at start-up.

/// One migration: its number and SQL.
pub(crate) struct Migration {
    pub version: i64,
    pub sql: &'static str,
}

/// SQLite migrations, oldest first.
pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/sqlite/0002_units_batches_audit.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/sqlite/0003_rescore_marks.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../migrations/sqlite/0004_audit_journal.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("../migrations/sqlite/0005_keys_and_append_only_audit.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!("../migrations/sqlite/0006_evidence.sql"),
    },
    Migration {
        version: 7,
        sql: include_str!("../migrations/sqlite/0007_source_versions_batch_progress.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("../migrations/sqlite/0008_audit_by_person.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("../migrations/sqlite/0009_staff.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("../migrations/sqlite/0010_calendar.sql"),
    },
    Migration {
        version: 11,
        sql: include_str!("../migrations/sqlite/0011_key_rotation.sql"),
    },
    Migration {
        version: 12,
        sql: include_str!("../migrations/sqlite/0012_objections.sql"),
    },
    Migration {
        version: 13,
        sql: include_str!("../migrations/sqlite/0013_repairs.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("../migrations/sqlite/0014_daily.sql"),
    },
    Migration {
        version: 15,
        sql: include_str!("../migrations/sqlite/0015_catalogue_versions.sql"),
    },
    Migration {
        version: 16,
        sql: include_str!("../migrations/sqlite/0016_parties_authorisations.sql"),
    },
    Migration {
        version: 17,
        sql: include_str!("../migrations/sqlite/0017_certificates_partners.sql"),
    },
    Migration {
        version: 18,
        sql: include_str!("../migrations/sqlite/0018_scenarios.sql"),
    },
    Migration {
        version: 19,
        sql: include_str!("../migrations/sqlite/0019_statistics.sql"),
    },
    Migration {
        version: 20,
        sql: include_str!("../migrations/sqlite/0020_resident_sign_outs.sql"),
    },
];

/// PostgreSQL migrations, oldest first.
pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/postgres/0002_units_batches_audit.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/postgres/0003_rescore_marks.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../migrations/postgres/0004_audit_pending.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("../migrations/postgres/0005_keys_and_append_only_audit.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!("../migrations/postgres/0006_evidence.sql"),
    },
    Migration {
        version: 7,
        sql: include_str!("../migrations/postgres/0007_source_versions_batch_progress.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("../migrations/postgres/0008_audit_by_person.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("../migrations/postgres/0009_staff.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("../migrations/postgres/0010_calendar.sql"),
    },
    Migration {
        version: 11,
        sql: include_str!("../migrations/postgres/0011_key_rotation.sql"),
    },
    Migration {
        version: 12,
        sql: include_str!("../migrations/postgres/0012_objections.sql"),
    },
    Migration {
        version: 13,
        sql: include_str!("../migrations/postgres/0013_repairs.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("../migrations/postgres/0014_daily.sql"),
    },
    Migration {
        version: 15,
        sql: include_str!("../migrations/postgres/0015_catalogue_versions.sql"),
    },
    Migration {
        version: 16,
        sql: include_str!("../migrations/postgres/0016_parties_authorisations.sql"),
    },
    Migration {
        version: 17,
        sql: include_str!("../migrations/postgres/0017_certificates_partners.sql"),
    },
    Migration {
        version: 18,
        sql: include_str!("../migrations/postgres/0018_scenarios.sql"),
    },
    Migration {
        version: 19,
        sql: include_str!("../migrations/postgres/0019_statistics.sql"),
    },
    Migration {
        version: 20,
        sql: include_str!("../migrations/postgres/0020_resident_sign_outs.sql"),
    },
];
