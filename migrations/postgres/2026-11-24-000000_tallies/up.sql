-- Additive tallies of the responses, so that a report reads tallies, not rows: one row per
-- unit, instrument, span (a local day YYYY-MM-DD, month YYYY-MM or quarter YYYY-Qn), service
-- ('' for none), channel and flag set, holding the
-- serialized tally of its responses and, apart, their profile counts (which a trend skips). Written in
-- the same transaction as the responses; `kepuasan tallies rebuild` recomputes them from rows.
CREATE TABLE tallies (
    unit_code    TEXT NOT NULL REFERENCES units (code),
    instrument   TEXT NOT NULL,
    span         TEXT NOT NULL,
    service_code TEXT NOT NULL,
    channel      TEXT NOT NULL,
    flags        TEXT NOT NULL,
    data         BYTEA NOT NULL, -- the tally (postcard)
    profile      BYTEA NOT NULL, -- the answer counts per profile category (postcard)
    PRIMARY KEY (unit_code, instrument, span, service_code, channel, flags)
);

-- Suggestions are the only rows a report still reads: index just those.
CREATE INDEX responses_suggestions ON responses (unit_code, instrument, received_at)
    WHERE suggestion IS NOT NULL AND suggestion <> '';
