-- The catalogue and the commitment templates as the agency's versioned data
-- (第十一条). Version 1 of each is the one shipped in the binary, stored on
-- first start; the version in force is the highest number of its kind.
CREATE TABLE data_versions (
    kind           TEXT    NOT NULL,        -- catalogue | templates
    number         INTEGER NOT NULL,
    label          TEXT    NOT NULL,
    hash           TEXT    NOT NULL,
    content        TEXT    NOT NULL,        -- the TOML text as published
    effective_from TEXT    NOT NULL,
    published_at   INTEGER NOT NULL,        -- unix seconds
    published_by   TEXT    NOT NULL,
    PRIMARY KEY (kind, number),
    UNIQUE (kind, label)
);

-- The catalogue version each record version was validated against.
ALTER TABLE records ADD COLUMN catalogue_version INTEGER NOT NULL DEFAULT 1;
