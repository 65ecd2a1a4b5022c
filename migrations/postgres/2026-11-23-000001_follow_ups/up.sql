-- Follow-up plans (rencana tindak lanjut): actions a unit commits to for a period, each tied to
-- an item of the instrument, with an owner, a due date (YYYY-MM-DD) and a status.
CREATE TABLE follow_ups (
    id         TEXT PRIMARY KEY NOT NULL,
    unit_code  TEXT NOT NULL REFERENCES units (code),
    period     TEXT NOT NULL,
    item_code  TEXT NOT NULL,
    action     TEXT NOT NULL,
    owner      TEXT NOT NULL,
    due        TEXT NOT NULL,
    status     TEXT NOT NULL,
    note       TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX follow_ups_unit_period ON follow_ups (unit_code, period);
