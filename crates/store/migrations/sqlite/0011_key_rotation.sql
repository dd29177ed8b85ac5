-- Key rotation (README, "Key rotation"; crates/jobs/src/keys.rs). While a
-- rotation runs, `key_rotation` names the key the database moves to, and
-- each person gets that key's blind index and ciphertexts in the `_next`
-- columns (a row with `id_index_next` is done); records get the content
-- hash under the new index. The switch-over copies the `_next` columns over
-- the current ones, makes the next key the bound one and retires the old.

CREATE TABLE key_rotation (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    next_key_id    TEXT NOT NULL,   -- hex of the next data key's id
    next_key_check TEXT NOT NULL,   -- hex of its check value
    next_key_file  TEXT,            -- where the operator keeps it, for messages
    started_at     TEXT NOT NULL
);

-- Keys a database belonged to before a rotation: refused, naming the new one.
CREATE TABLE retired_keys (
    key_id        TEXT PRIMARY KEY,
    key_check     TEXT NOT NULL,
    successor_id  TEXT NOT NULL,
    successor_file TEXT,
    retired_at    TEXT NOT NULL
);

ALTER TABLE persons ADD COLUMN id_index_next BLOB;
ALTER TABLE persons ADD COLUMN id_cipher_next BLOB;
ALTER TABLE persons ADD COLUMN name_cipher_next BLOB;
CREATE UNIQUE INDEX persons_id_index_next ON persons (id_index_next);
ALTER TABLE records ADD COLUMN content_hash_next BLOB;

-- The bound key changes only to the key a rotation recorded as next, and
-- the audit key never.
DROP TRIGGER key_binding_no_update;
CREATE TRIGGER key_binding_no_update BEFORE UPDATE ON key_binding
WHEN NEW.audit_public_key IS NOT OLD.audit_public_key
  OR NOT EXISTS (SELECT 1 FROM key_rotation
                 WHERE next_key_id = NEW.data_key_id AND next_key_check = NEW.data_key_check)
BEGIN SELECT RAISE(ABORT, 'key_binding changes only to the key a rotation recorded'); END;
