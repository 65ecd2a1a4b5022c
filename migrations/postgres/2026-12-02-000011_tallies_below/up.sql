-- A parent's report reads what sits directly below it, whatever the depth: each unit with
-- units below it keeps, besides the tallies of its own responses (`below` false), the tallies
-- of all its descendants' responses (`below` true; service '' as services are per unit),
-- written in the same transaction as the responses. The stored tallies are dropped here; the
-- server rebuilds them from the rows when it starts (tallies::ensure), the new rows included.
DROP TABLE tallies;
CREATE TABLE tallies (
    unit_code    TEXT NOT NULL REFERENCES units (code),
    below        BOOLEAN NOT NULL,
    instrument   TEXT NOT NULL,
    span         TEXT NOT NULL,
    service_code TEXT NOT NULL,
    channel      TEXT NOT NULL,
    flags        TEXT NOT NULL,
    data         BYTEA NOT NULL, -- the tally (postcard)
    profile      BYTEA NOT NULL, -- the answer counts per profile category (postcard)
    PRIMARY KEY (unit_code, below, instrument, span, service_code, channel, flags)
);
