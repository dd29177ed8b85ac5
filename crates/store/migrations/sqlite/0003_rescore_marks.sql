-- Rescoring marks per person and model (a mark per person alone let one
-- model's scoring clear what another still needed), and the revision each
-- stored score was computed from, so that concurrent writers never store an
-- older score over a newer one.

CREATE TABLE rescore (
    model_version TEXT    NOT NULL,
    person_id     INTEGER NOT NULL,
    rev           INTEGER NOT NULL,   -- the person's revision awaiting scoring
    PRIMARY KEY (model_version, person_id)
) WITHOUT ROWID;

INSERT INTO rescore (model_version, person_id, rev)
    SELECT m.version, p.id, p.rev FROM persons p, models m
    WHERE p.dirty = 1 AND m.status IN ('active', 'staged');

DROP INDEX persons_dirty;

ALTER TABLE scores ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
