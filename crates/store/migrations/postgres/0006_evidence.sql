-- Evidence files of residents' submissions (self-reports, 第十二条),
-- content-addressed by the SHA-256 of their plaintext. PostgreSQL keeps the
-- content in the database (`bytea`, encrypted with the data key), so a
-- backup of the database is a backup of the evidence and no shared
-- directory is needed between servers.

CREATE TABLE evidence_files (
    sha256     BYTEA  PRIMARY KEY,        -- SHA-256 of the plaintext content
    media_type TEXT   NOT NULL,           -- application/pdf | image/jpeg | image/png
    size       BIGINT NOT NULL,           -- plaintext bytes
    content    BYTEA  NOT NULL,           -- AEAD ciphertext of the content
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Which files support which record (a self-report is a record), in order.
CREATE TABLE record_evidence (
    record_id BIGINT  NOT NULL REFERENCES records(id),
    position  INTEGER NOT NULL,
    sha256    BYTEA   NOT NULL REFERENCES evidence_files(sha256),
    PRIMARY KEY (record_id, position)
);

