-- Audit entries waiting to be sealed into the hash chain. Units of work
-- add their entries here without any lock; one sequencer at a time (under
-- the audit_head row's lock) chains them into audit_log and deletes them.

CREATE TABLE audit_pending (
    id         BIGSERIAL PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT,
    person     TEXT,
    request_id TEXT,
    detail     TEXT NOT NULL
);
