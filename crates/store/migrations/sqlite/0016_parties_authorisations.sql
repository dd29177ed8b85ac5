-- Authorised parties (授权主体) and residents' authorisations of them
-- (第十六条). A party's API key and an authorisation's one-time code are
-- stored only as SHA-256 hashes. Times are unix seconds; `valid_until` is
-- the last civil day (YYYY-MM-DD) it may be used.
CREATE TABLE parties (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    purposes   TEXT NOT NULL,
    key_hash   BLOB NOT NULL UNIQUE,
    disabled   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE authorisations (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES persons (id),
    party_id    INTEGER NOT NULL REFERENCES parties (id),
    purpose     TEXT NOT NULL,
    scope       TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    max_uses    INTEGER,
    uses        INTEGER NOT NULL DEFAULT 0 CHECK (max_uses IS NULL OR uses <= max_uses),
    code_hash   BLOB NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    redeemed_at INTEGER,
    revoked_at  INTEGER
);
CREATE INDEX authorisations_person ON authorisations (person_id, party_id);
