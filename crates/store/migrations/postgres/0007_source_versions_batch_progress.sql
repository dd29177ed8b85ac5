-- Issue 7: a record may carry its unit's own version number (an older one
-- than stored is stale), and a batch keeps who holds its lease and how far
-- it got, so that a retry resumes after the lines already applied.

ALTER TABLE records ADD COLUMN source_version BIGINT;

ALTER TABLE batches ADD COLUMN owner TEXT;                             -- the request holding the lease
ALTER TABLE batches ADD COLUMN lines_done BIGINT NOT NULL DEFAULT 0;   -- input lines applied, in order
ALTER TABLE batches ADD COLUMN prefix_hash BYTEA;                      -- digest of those lines
