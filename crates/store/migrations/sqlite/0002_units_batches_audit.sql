-- Units, batches and the audit log (HTTP service).

CREATE TABLE units (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    items      TEXT NOT NULL,            -- comma-separated catalogue codes
    key_hash   BLOB NOT NULL UNIQUE,     -- SHA-256 of the API key
    disabled   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE batches (
    id              TEXT PRIMARY KEY,
    unit            TEXT NOT NULL,
    idempotency_key TEXT,
    body_hash       BLOB,
    status          TEXT NOT NULL,       -- processing | completed
    lease_until     INTEGER NOT NULL,    -- unix seconds; a processing batch past it was abandoned
    receipt         TEXT,
    created_at      TEXT NOT NULL,
    UNIQUE (unit, idempotency_key)
);

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT,
    person     TEXT,
    request_id TEXT,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
