-- Key rotation (README, "Key rotation"; crates/jobs/src/keys.rs). While a
-- rotation runs, `key_rotation` names the key the database moves to, and
-- each person gets that key's blind index and ciphertexts in the `_next`
-- columns (a row with `id_index_next` is done); records get the content
-- hash under the new index. The switch-over copies the `_next` columns over
-- the current ones, makes the next key the bound one and retires the old.

CREATE TABLE key_rotation (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    next_key_id    TEXT NOT NULL,
    next_key_check TEXT NOT NULL,
    next_key_file  TEXT,
    started_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE retired_keys (
    key_id         TEXT PRIMARY KEY,
    key_check      TEXT NOT NULL,
    successor_id   TEXT NOT NULL,
    successor_file TEXT,
    retired_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

ALTER TABLE persons ADD COLUMN id_index_next BYTEA UNIQUE;
ALTER TABLE persons ADD COLUMN id_cipher_next BYTEA;
ALTER TABLE persons ADD COLUMN name_cipher_next BYTEA;
ALTER TABLE records ADD COLUMN content_hash_next BYTEA;

-- The bound key changes only to the key a rotation recorded as next, and
-- the audit key never.
DROP TRIGGER key_binding_fixed ON key_binding;
CREATE FUNCTION chengxin_key_binding_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.audit_public_key = OLD.audit_public_key
       AND EXISTS (SELECT 1 FROM key_rotation
                   WHERE next_key_id = NEW.data_key_id AND next_key_check = NEW.data_key_check) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'key_binding changes only to the key a rotation recorded: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER key_binding_fixed BEFORE UPDATE OR DELETE ON key_binding
    FOR EACH ROW EXECUTE FUNCTION chengxin_key_binding_change();
