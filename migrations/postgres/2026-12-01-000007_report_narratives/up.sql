-- The report's narrative as a unit edited it before signing (issue 16): one text per unit,
-- period, language and chapter; a chapter without a row prints the template's paragraph.
CREATE TABLE report_narratives (
    unit_code  TEXT NOT NULL REFERENCES units (code),
    period     TEXT NOT NULL,
    lang       TEXT NOT NULL,
    chapter    TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (unit_code, period, lang, chapter)
);
