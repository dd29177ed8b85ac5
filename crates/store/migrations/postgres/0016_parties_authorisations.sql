-- Authorised parties (授权主体) and residents' authorisations of them
-- (第十六条). A party's API key and an authorisation's one-time code are
-- stored only as SHA-256 hashes. Times are unix seconds; `valid_until` is
-- the last civil day (YYYY-MM-DD) it may be used.
CREATE TABLE parties (
    id         BIGSERIAL PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    purposes   TEXT NOT NULL,
    key_hash   BYTEA NOT NULL UNIQUE,
    disabled   BOOLEAN NOT NULL DEFAULT false,
    created_at BIGINT NOT NULL
);

CREATE TABLE authorisations (
    id          BIGSERIAL PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES persons (id),
    party_id    BIGINT NOT NULL REFERENCES parties (id),
    purpose     TEXT NOT NULL,
    scope       TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    max_uses    BIGINT,
    uses        BIGINT NOT NULL DEFAULT 0 CHECK (max_uses IS NULL OR uses <= max_uses),
    code_hash   BYTEA NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    redeemed_at BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX authorisations_person ON authorisations (person_id, party_id);
