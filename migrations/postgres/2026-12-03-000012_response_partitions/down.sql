DROP TABLE archives;
ALTER TABLE responses RENAME TO responses_partitioned;
ALTER TABLE responses_partitioned RENAME CONSTRAINT responses_pkey TO responses_partitioned_pkey;
CREATE TABLE responses (
    submission_id      TEXT PRIMARY KEY NOT NULL,
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
    device_id          TEXT
);
INSERT INTO responses SELECT submission_id, content_hash, instrument, instrument_version, unit_code,
    service_code, channel, answers, profile, suggestion, received_at, client_time, flags, key_id,
    started_at, clock_offset_ms, device_id FROM responses_partitioned;
DROP TABLE responses_partitioned;
CREATE INDEX responses_unit_time ON responses (unit_code, received_at);
CREATE INDEX responses_device_time ON responses (device_id, received_at);
CREATE INDEX responses_suggestions ON responses (unit_code, instrument, received_at)
    WHERE suggestion IS NOT NULL AND suggestion <> '';
ALTER TABLE token_spends DROP CONSTRAINT token_spends_submission_id_fkey;
ALTER TABLE token_spends ADD CONSTRAINT token_spends_submission_id_fkey
    FOREIGN KEY (submission_id) REFERENCES responses (submission_id);
DROP TABLE submissions;
