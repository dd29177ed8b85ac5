-- Objections (异议, 第二十五、二十六条): a resident's objection to a record
-- (`record_id`, the version objected to) or to their score (no record), its
-- deadlines in working days and each step's date. The state machine is the
-- domain's; this table only stores where each case stands.
CREATE TABLE objections (
    id                    BIGSERIAL PRIMARY KEY,
    person_id             BIGINT  NOT NULL REFERENCES persons(id),
    record_id             BIGINT  REFERENCES records(id),
    unit                  TEXT,              -- the record's unit it is routed to
    reason                TEXT    NOT NULL,
    status                TEXT    NOT NULL,
    submitted_on          DATE    NOT NULL,
    submitted_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    accept_by             DATE    NOT NULL,
    accept_by_provisional BOOLEAN NOT NULL,
    accepted_on           DATE,
    accepted_by           TEXT,
    reply_by              DATE,
    reply_by_provisional  BOOLEAN NOT NULL DEFAULT false,
    replied_on            DATE,
    reply                 TEXT,
    decided_on            DATE,
    decided_by            TEXT,
    answer                TEXT,
    overdue_on            DATE               -- first marked overdue by the daily run
);
CREATE INDEX objections_person ON objections (person_id);
CREATE INDEX objections_status ON objections (status, id);
CREATE INDEX objections_unit ON objections (unit, id);

-- Evidence files of an objection, in order (the files are the self-reports'
-- content-addressed `evidence_files`).
CREATE TABLE objection_evidence (
    objection_id BIGINT  NOT NULL REFERENCES objections(id),
    position     INTEGER NOT NULL,
    sha256       BYTEA   NOT NULL REFERENCES evidence_files(sha256),
    PRIMARY KEY (objection_id, position)
);
