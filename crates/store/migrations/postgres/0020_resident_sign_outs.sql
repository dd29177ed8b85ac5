-- Residents' portal sessions that were signed out before their ID token
-- expired: the token's SHA-256 and its expiry (Unix seconds). A session
-- cookie whose token is listed is refused; rows are removed once the token
-- has expired (it is refused then anyway).
CREATE TABLE resident_sign_outs (
    token_hash BYTEA PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX resident_sign_outs_expiry ON resident_sign_outs (expires_at);
