-- Rescoring marks per person and model (a mark per person alone let one
-- model's scoring clear what another still needed), and the revision each
-- stored score was computed from, so that concurrent writers never store an
-- older score over a newer one.

CREATE TABLE rescore (
    model_version TEXT   NOT NULL,
    person_id     BIGINT NOT NULL,
    rev           BIGINT NOT NULL,   -- the person's revision awaiting scoring
    PRIMARY KEY (model_version, person_id)
);

INSERT INTO rescore (model_version, person_id, rev)
    SELECT m.version, p.id, p.rev FROM dirty_persons d
    JOIN persons p ON p.id = d.person_id
    CROSS JOIN models m WHERE m.status IN ('active', 'staged');

DROP TABLE dirty_persons;

ALTER TABLE scores ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
