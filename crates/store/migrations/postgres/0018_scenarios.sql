-- 信易+ incentive scenarios registered by an admin. Times are unix seconds;
-- a retired scenario is kept (never deleted).
CREATE TABLE scenarios (
    code           TEXT PRIMARY KEY,
    provider       TEXT NOT NULL,
    sector         TEXT NOT NULL,
    description_zh TEXT NOT NULL,
    description_en TEXT NOT NULL,
    benefit_kind   TEXT NOT NULL,
    benefit_amount BIGINT,
    min_grade      TEXT,
    min_score      INTEGER,
    valid_from     TEXT NOT NULL,
    valid_until    TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    retired_at     BIGINT
);
