-- The daily run (`chengxin daily`). Each score row carries the first date
-- after its as-of date on which it can change with no record written (the
-- jobs compute it with the engine; NULL: never), indexed so the run finds
-- exactly the people whose date has come. Scores stored before this column
-- existed are due at the next run, which computes their date.
ALTER TABLE scores ADD COLUMN next_change DATE;
UPDATE scores SET next_change = as_of;
CREATE INDEX scores_next_change ON scores (model_version, next_change, person_id)
    WHERE next_change IS NOT NULL;

-- One row per run date, claimed by inserting it: of two servers, exactly one
-- does a date. `finished_at` and the counts are set when it is done.
CREATE TABLE daily_runs (
    run_date    DATE PRIMARY KEY,
    owner       TEXT NOT NULL,
    claimed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    touched     BIGINT,
    rescored    BIGINT,
    changed     BIGINT
);
