-- Chengxin schema, SQLite. Never edit a released migration: add a new file.

CREATE TABLE persons (
    id          INTEGER PRIMARY KEY,
    id_index    BLOB    NOT NULL UNIQUE,   -- HMAC blind index of the ID number
    id_cipher   BLOB    NOT NULL,          -- AEAD ciphertext of the ID number
    name_cipher BLOB,                      -- AEAD ciphertext of the name
    birth_date  TEXT    NOT NULL,          -- needed for eligibility (第三条)
    dirty       INTEGER NOT NULL DEFAULT 1,   -- records changed since last scored
    rev         INTEGER NOT NULL DEFAULT 1,   -- bumped on every record change
    created_at  TEXT    NOT NULL
);
CREATE INDEX persons_dirty ON persons(dirty) WHERE dirty = 1;

CREATE TABLE records (
    id           INTEGER PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES persons(id),
    unit         TEXT    NOT NULL,
    source_id    TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    item         TEXT    NOT NULL,
    record_date  TEXT    NOT NULL,
    fields       TEXT    NOT NULL,        -- canonical JSON
    content_hash BLOB    NOT NULL,
    status       TEXT    NOT NULL,
    status_reason TEXT,
    received_at  TEXT    NOT NULL,
    UNIQUE (unit, source_id, version)
);
CREATE INDEX records_person ON records(person_id);

CREATE TABLE models (
    version        TEXT PRIMARY KEY,
    hash           TEXT NOT NULL,
    content        TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    status         TEXT NOT NULL,          -- staged | active | retired
    created_at     TEXT NOT NULL,
    activated_at   TEXT
);

CREATE TABLE scores (
    person_id     INTEGER NOT NULL,
    model_version TEXT    NOT NULL,
    model_hash    TEXT    NOT NULL,
    as_of         TEXT    NOT NULL,
    eligible      INTEGER NOT NULL,
    score         INTEGER,
    grade         TEXT,
    reasons       TEXT    NOT NULL,
    computed_at   TEXT    NOT NULL,
    PRIMARY KEY (person_id, model_version)
) WITHOUT ROWID;

CREATE TABLE score_history (
    id            INTEGER PRIMARY KEY,
    person_id     INTEGER NOT NULL,
    model_version TEXT    NOT NULL,
    model_hash    TEXT    NOT NULL,
    as_of         TEXT    NOT NULL,
    eligible      INTEGER NOT NULL,
    score         INTEGER,
    grade         TEXT,
    cause         TEXT    NOT NULL,
    changed_at    TEXT    NOT NULL
);
CREATE INDEX score_history_person ON score_history(person_id, id);
