-- Chengxin schema, PostgreSQL. Never edit a released migration: add a new file.

CREATE TABLE persons (
    id          BIGSERIAL PRIMARY KEY,
    id_index    BYTEA   NOT NULL UNIQUE,
    id_cipher   BYTEA   NOT NULL,
    name_cipher BYTEA,
    birth_date  DATE    NOT NULL,
    dirty       BOOLEAN NOT NULL DEFAULT TRUE,
    rev         BIGINT  NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX persons_dirty ON persons(id) WHERE dirty;

CREATE TABLE records (
    id           BIGSERIAL PRIMARY KEY,
    person_id    BIGINT  NOT NULL REFERENCES persons(id),
    unit         TEXT    NOT NULL,
    source_id    TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    item         TEXT    NOT NULL,
    record_date  DATE    NOT NULL,
    fields       TEXT    NOT NULL,
    content_hash BYTEA   NOT NULL,
    status       TEXT    NOT NULL,
    status_reason TEXT,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (unit, source_id, version)
);
-- Serves a person's records in id order: loads, listings and the scan's merge join.
CREATE INDEX records_person ON records(person_id, id);

CREATE TABLE models (
    version        TEXT PRIMARY KEY,
    hash           TEXT NOT NULL,
    content        TEXT NOT NULL,
    effective_from DATE NOT NULL,
    status         TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    activated_at   TIMESTAMPTZ
);

CREATE TABLE scores (
    person_id     BIGINT  NOT NULL,
    model_version TEXT    NOT NULL,
    model_hash    TEXT    NOT NULL,
    as_of         DATE    NOT NULL,
    eligible      BOOLEAN NOT NULL,
    score         INTEGER,
    grade         TEXT,
    reasons       TEXT    NOT NULL,
    computed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, model_version)
);

CREATE TABLE score_history (
    id            BIGSERIAL PRIMARY KEY,
    person_id     BIGINT  NOT NULL,
    model_version TEXT    NOT NULL,
    model_hash    TEXT    NOT NULL,
    as_of         DATE    NOT NULL,
    eligible      BOOLEAN NOT NULL,
    score         INTEGER,
    grade         TEXT,
    cause         TEXT    NOT NULL,
    changed_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX score_history_person ON score_history(person_id, id);
