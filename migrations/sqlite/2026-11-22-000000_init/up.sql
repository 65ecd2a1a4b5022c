-- Units, services, API keys, responses and populations (SQLite).
-- Ids are application-made text; timestamps are UTC written from Rust; booleans 0/1.

CREATE TABLE units (
    code        TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    parent_code TEXT REFERENCES units (code),
    open_link   BOOLEAN NOT NULL DEFAULT 0,
    active      BOOLEAN NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX units_parent ON units (parent_code);

CREATE TABLE services (
    unit_code  TEXT NOT NULL REFERENCES units (code),
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (unit_code, code)
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    units        TEXT NOT NULL,
    name         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);

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
    key_id             TEXT
);
CREATE INDEX responses_unit_time ON responses (unit_code, received_at);

CREATE TABLE populations (
    unit_code  TEXT NOT NULL REFERENCES units (code),
    period     TEXT NOT NULL,
    population BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (unit_code, period)
);
