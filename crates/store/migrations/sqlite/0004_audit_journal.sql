-- The last entry of the read journal (DB-reads) chained into audit_log:
-- recorded with the entries, so a crash between chaining them and clearing
-- the journal never chains one twice.

CREATE TABLE audit_journal (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL
);
