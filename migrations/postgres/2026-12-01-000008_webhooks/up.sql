-- Same-day signals (issue 16): webhooks that administrators and managers register, and every
-- delivery made to them, with its attempts, so a failing receiver gets it later and anyone can
-- see what was sent. The secret signs each body (HMAC-SHA256); it is never shown again.
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY NOT NULL,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    unit_code  TEXT REFERENCES units (code),
    threshold  INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    active     BOOLEAN NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id),
    event           TEXT NOT NULL,
    dedupe          TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    delivered_at    TIMESTAMP
);
-- One delivery of an event to a webhook, however many instances notice it.
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (webhook_id, dedupe);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
