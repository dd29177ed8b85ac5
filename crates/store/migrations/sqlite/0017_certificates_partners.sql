-- Score certificates: our signing keys' public halves (the private keys are
-- kept in files outside the database, never here) and partner cities.
-- Times are unix seconds.
CREATE TABLE cert_signing_keys (
    kid        TEXT PRIMARY KEY,
    public_key BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);

CREATE TABLE partner_cities (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    issuer     TEXT NOT NULL UNIQUE,
    jwks       TEXT NOT NULL,
    grade_map  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
