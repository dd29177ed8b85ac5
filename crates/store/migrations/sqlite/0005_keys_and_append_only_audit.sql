-- The keys this database was created with, and an audit log that refuses
-- changes. A process opening the database compares its keys with the row
-- below and refuses to start on a mismatch (src/binding.rs).

CREATE TABLE key_binding (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    data_key_id      TEXT NOT NULL,   -- hex of the data key's 4-byte id
    data_key_check   TEXT NOT NULL,   -- hex of HMAC(constant) under a key derived from it
    audit_public_key TEXT NOT NULL,   -- base64 Ed25519 key that signs checkpoints
    bound_at         TEXT NOT NULL
);
CREATE TRIGGER key_binding_no_update BEFORE UPDATE ON key_binding
BEGIN SELECT RAISE(ABORT, 'key_binding cannot be changed'); END;
CREATE TRIGGER key_binding_no_delete BEFORE DELETE ON key_binding
BEGIN SELECT RAISE(ABORT, 'key_binding cannot be deleted'); END;

-- The last signed checkpoint written into the log (its seq; 0: none).
ALTER TABLE audit_head ADD COLUMN checkpoint_seq INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END;
