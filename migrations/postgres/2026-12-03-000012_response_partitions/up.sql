-- Responses partitioned by the year they were received (UTC), so that a national database's
-- vacuum and index sizes stay those of a year, and a closed year can be archived and dropped
-- (issue 17.3). A partitioned table's unique keys must hold its partition key, so "each
-- submission id stored once" moves to `submissions` (id, content hash, when), written in the
-- same transaction as the row; receipt spends refer to it. Partitions are made by the server
-- a year ahead (`db::partitions`); `responses_default` takes anything outside them.

CREATE TABLE submissions (
    submission_id TEXT PRIMARY KEY NOT NULL,
    content_hash  TEXT NOT NULL,
    received_at   TIMESTAMP NOT NULL
);
INSERT INTO submissions (submission_id, content_hash, received_at)
    SELECT submission_id, content_hash, received_at FROM responses;

ALTER TABLE token_spends DROP CONSTRAINT token_spends_submission_id_fkey;
ALTER TABLE token_spends ADD CONSTRAINT token_spends_submission_id_fkey
    FOREIGN KEY (submission_id) REFERENCES submissions (submission_id);

DROP INDEX responses_unit_time;
DROP INDEX responses_device_time;
DROP INDEX responses_suggestions;
ALTER TABLE responses RENAME TO responses_unpartitioned;
ALTER TABLE responses_unpartitioned RENAME CONSTRAINT responses_pkey TO responses_unpartitioned_pkey;

CREATE TABLE responses (
    submission_id      TEXT NOT NULL,
    content_hash       TEXT NOT NULL,
    instrument         TEXT NOT NULL,
    instrument_version INTEGER NOT NULL,
    unit_code          TEXT NOT NULL REFERENCES units (code),
    service_code       TEXT,
    channel            TEXT NOT NULL,
    answers            TEXT NOT NULL,
    profile            TEXT,
    suggestion         TEXT,
    received_at        TIMESTAMP NOT NULL,
    client_time        TIMESTAMP,
    flags              TEXT NOT NULL DEFAULT '',
    key_id             TEXT,
    started_at         TIMESTAMP,
    clock_offset_ms    BIGINT,
    device_id          TEXT,
    PRIMARY KEY (submission_id, received_at)
) PARTITION BY RANGE (received_at);
CREATE TABLE responses_default PARTITION OF responses DEFAULT;

-- A partition for every year holding responses, and this year and the next.
DO $$
DECLARE y INTEGER;
BEGIN
    FOR y IN
        SELECT DISTINCT EXTRACT(YEAR FROM received_at)::INTEGER FROM responses_unpartitioned
        UNION SELECT EXTRACT(YEAR FROM now() AT TIME ZONE 'UTC')::INTEGER
        UNION SELECT EXTRACT(YEAR FROM now() AT TIME ZONE 'UTC')::INTEGER + 1
    LOOP
        EXECUTE format('CREATE TABLE responses_y%s PARTITION OF responses FOR VALUES FROM (%L) TO (%L)',
                       y, make_date(y, 1, 1), make_date(y + 1, 1, 1));
    END LOOP;
END $$;

INSERT INTO responses (submission_id, content_hash, instrument, instrument_version, unit_code,
        service_code, channel, answers, profile, suggestion, received_at, client_time, flags,
        key_id, started_at, clock_offset_ms, device_id)
    SELECT submission_id, content_hash, instrument, instrument_version, unit_code, service_code,
        channel, answers, profile, suggestion, received_at, client_time, flags, key_id,
        started_at, clock_offset_ms, device_id
    FROM responses_unpartitioned;
DROP TABLE responses_unpartitioned;

CREATE INDEX responses_unit_time ON responses (unit_code, received_at);
CREATE INDEX responses_device_time ON responses (device_id, received_at);
CREATE INDEX responses_suggestions ON responses (unit_code, instrument, received_at)
    WHERE suggestion IS NOT NULL AND suggestion <> '';
-- A suggestion is looked up by its id alone (marking it handled).
CREATE INDEX responses_submission ON responses (submission_id);

-- What `kepuasan archive` wrote: the years before `before_year` (each unit's local year) went
-- to `file`; with `dropped`, their rows left the database while their tallies stayed.
CREATE TABLE archives (
    id          TEXT PRIMARY KEY NOT NULL,
    before_year INTEGER NOT NULL,
    file        TEXT NOT NULL,
    rows        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    dropped     BOOLEAN NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
