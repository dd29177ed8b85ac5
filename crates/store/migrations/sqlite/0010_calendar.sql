-- Working-day calendar years loaded by an admin (`chengxin calendar load`):
-- the validated file as given, one per year; they replace the shipped year.
CREATE TABLE calendar_years (
    year      INTEGER PRIMARY KEY,
    content   TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);
