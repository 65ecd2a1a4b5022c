-- "Each submission id stored once" kept in `submissions` (id, content hash, when), as on
-- PostgreSQL, where responses are partitioned by year and their unique keys must hold the
-- year (see postgres/). SQLite keeps one responses table. `archives` records what
-- `kepuasan archive` wrote and dropped.
CREATE TABLE submissions (
    submission_id TEXT PRIMARY KEY NOT NULL,
    content_hash  TEXT NOT NULL,
    received_at   TIMESTAMP NOT NULL
);
INSERT INTO submissions (submission_id, content_hash, received_at)
    SELECT submission_id, content_hash, received_at FROM responses;

CREATE TABLE archives (
    id          TEXT PRIMARY KEY NOT NULL,
    before_year INTEGER NOT NULL,
    file        TEXT NOT NULL,
    rows        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    dropped     BOOLEAN NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
