-- The Ombudsman RI's annual compliance assessment of a unit, recorded as it was published
-- (issue 16): its score out of 100 (in hundredths), its zone, since 2022 its quality
-- category, and where it was published. kepuasan shows it beside the IKM; it never computes it.
CREATE TABLE ombudsman_assessments (
    unit_code         TEXT NOT NULL REFERENCES units (code),
    year              INTEGER NOT NULL,
    score_hundredths  INTEGER NOT NULL,
    zone              TEXT NOT NULL,
    category          TEXT,
    source            TEXT NOT NULL,
    recorded_at       TIMESTAMP NOT NULL,
    recorded_by       TEXT NOT NULL,
    PRIMARY KEY (unit_code, year)
);
