-- Credit-repair applications (信用修复, 第二十四条; crates/jobs/src/repairs.rs).
-- An application names the record version applied for and its case
-- (unit, source_id): approval repairs the case's newest version. At most
-- one application per case is pending (a racing second insert is a unique
-- violation, which the unit of work runs again and then refuses). Times are
-- RFC 3339 text, as both backends store them for this table.
CREATE TABLE repair_applications (
    id           BIGSERIAL PRIMARY KEY,
    person_id    BIGINT NOT NULL REFERENCES persons (id),
    record_id    BIGINT NOT NULL REFERENCES records (id),
    unit         TEXT   NOT NULL,
    source_id    TEXT   NOT NULL,
    statement    TEXT   NOT NULL,
    status       TEXT   NOT NULL,
    reason       TEXT,
    submitted_at TEXT   NOT NULL,
    decided_at   TEXT,
    decided_by   TEXT
);
CREATE INDEX repair_applications_person ON repair_applications (person_id, id);
CREATE INDEX repair_applications_status ON repair_applications (status, id);
CREATE UNIQUE INDEX repair_applications_one_pending
    ON repair_applications (unit, source_id) WHERE status = 'pending';
