DROP TABLE tallies;
CREATE TABLE tallies (
    unit_code    TEXT NOT NULL REFERENCES units (code),
    instrument   TEXT NOT NULL,
    span         TEXT NOT NULL,
    service_code TEXT NOT NULL,
    channel      TEXT NOT NULL,
    flags        TEXT NOT NULL,
    data         BYTEA NOT NULL,
    profile      BYTEA NOT NULL,
    PRIMARY KEY (unit_code, instrument, span, service_code, channel, flags)
);
