-- Evidence files of residents' submissions (self-reports, 第十二条),
-- content-addressed by the SHA-256 of their plaintext. The content itself is
-- a file of its own, encrypted with the data key, in the directory beside
-- the database (`DB-evidence/ab/abcd…`); this table indexes it.

CREATE TABLE evidence_files (
    sha256     BLOB    PRIMARY KEY,       -- SHA-256 of the plaintext content
    media_type TEXT    NOT NULL,          -- application/pdf | image/jpeg | image/png
    size       INTEGER NOT NULL,          -- plaintext bytes
    created_at TEXT    NOT NULL
) WITHOUT ROWID;

-- Which files support which record (a self-report is a record), in order.
CREATE TABLE record_evidence (
    record_id INTEGER NOT NULL REFERENCES records(id),
    position  INTEGER NOT NULL,
    sha256    BLOB    NOT NULL REFERENCES evidence_files(sha256),
    PRIMARY KEY (record_id, position)
) WITHOUT ROWID;

