-- What a printed report said, so that anyone holding the PDF can confirm on the server that
-- these are the numbers it computed (GET /verify/{code}).
CREATE TABLE report_verifications (
    code         TEXT PRIMARY KEY NOT NULL,
    unit_code    TEXT NOT NULL REFERENCES units (code),
    period       TEXT NOT NULL,
    service_code TEXT,
    mode         TEXT NOT NULL,
    instrument   TEXT NOT NULL,
    respondents  BIGINT NOT NULL,
    ikm          TEXT,
    grade        TEXT,
    items        TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
