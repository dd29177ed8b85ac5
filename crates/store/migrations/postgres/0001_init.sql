-- Chengxin schema, PostgreSQL. Never edit a released migration: add a new file.
--
-- Shaped for bulk work: a full rescoring reads one row per person (their
-- counting records are kept packed in `persons.counting`) and writes scores
-- without rewriting `persons` (the rescoring mark lives in `dirty_persons`).

CREATE TABLE persons (
    id          BIGSERIAL PRIMARY KEY,
    id_index    BYTEA   NOT NULL UNIQUE,   -- HMAC blind index of the ID number
    id_cipher   BYTEA   NOT NULL,          -- AEAD ciphertext of the ID number
    name_cipher BYTEA,                     -- AEAD ciphertext of the name
    birth_date  DATE    NOT NULL,          -- needed for eligibility (第三条)
    rev         BIGINT  NOT NULL DEFAULT 1,  -- bumped on every record change
    -- The counting (active or disputed) records, oldest first, packed as
    -- `id US item US record_date US status US fields` joined by RS (U+001F,
    -- U+001E; canonical JSON never contains either). Written with a new
    -- person and rebuilt from `records` in the same transaction as any change
    -- to their records (src/postgres/packed.rs).
    counting    TEXT    NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
) WITH (fillfactor = 80);  -- room for in-page (HOT) updates of rev and counting

-- People whose records changed since they were last scored.
CREATE TABLE dirty_persons (
    person_id BIGINT PRIMARY KEY
);

CREATE TABLE records (
    id           BIGSERIAL PRIMARY KEY,
    -- persons(id). Not declared as a foreign key: the per-row check would
    -- cost more than the rest of a bulk insert, and the store only ever
    -- files records under a person it has just found or created.
    person_id    BIGINT  NOT NULL,
    unit         TEXT    NOT NULL,
    source_id    TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    item         TEXT    NOT NULL,
    record_date  DATE    NOT NULL,
    fields       TEXT    NOT NULL,        -- canonical JSON
    content_hash BYTEA   NOT NULL,
    status       TEXT    NOT NULL,
    status_reason TEXT,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (unit, source_id, version)
);
-- A person's records in id order: listings and rebuilding `counting`.
CREATE INDEX records_person ON records(person_id, id);

CREATE TABLE models (
    version        TEXT PRIMARY KEY,
    hash           TEXT NOT NULL,
    content        TEXT NOT NULL,
    effective_from DATE NOT NULL,
    status         TEXT NOT NULL,          -- staged | active | retired
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
) WITH (fillfactor = 50);  -- rescoring rewrites every row: room to do it in-page (HOT)

CREATE TABLE score_history (
    id            BIGSERIAL,
    person_id     BIGINT  NOT NULL,
    model_version TEXT    NOT NULL,
    model_hash    TEXT    NOT NULL,
    as_of         DATE    NOT NULL,
    eligible      BOOLEAN NOT NULL,
    score         INTEGER,
    grade         TEXT,
    cause         TEXT    NOT NULL,
    changed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, id)  -- one index serves identity and a person's history
);
