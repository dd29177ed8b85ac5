-- The keys this database was created with, and an audit log that refuses
-- changes. A process opening the database compares its keys with the row
-- below and refuses to start on a mismatch (src/binding.rs). The triggers
-- stop the service's own role; a role that cannot drop them (not the
-- tables' owner) is described in the README ("PostgreSQL roles").

CREATE TABLE key_binding (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    data_key_id      TEXT NOT NULL,
    data_key_check   TEXT NOT NULL,
    audit_public_key TEXT NOT NULL,
    bound_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The last signed checkpoint written into the log (its seq; 0: none).
ALTER TABLE audit_head ADD COLUMN checkpoint_seq BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION chengxin_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION chengxin_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION chengxin_refuse_change();
CREATE TRIGGER key_binding_fixed BEFORE UPDATE OR DELETE ON key_binding
    FOR EACH ROW EXECUTE FUNCTION chengxin_refuse_change();
CREATE TRIGGER key_binding_no_truncate BEFORE TRUNCATE ON key_binding
    FOR EACH STATEMENT EXECUTE FUNCTION chengxin_refuse_change();
