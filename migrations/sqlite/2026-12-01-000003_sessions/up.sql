-- Signed-in sessions of people (issue 15). The cookie's value is a secret the server never
-- keeps: only its SHA-256 is stored. A session ends when its person signs out, after 8 idle
-- hours (last_seen_at) or 7 days from sign-in, whichever comes first.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY NOT NULL,
    username     TEXT NOT NULL REFERENCES users (username),
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    ended_at     TIMESTAMP
);
CREATE INDEX sessions_by_user ON sessions (username);

-- Failed sign-ins of the last minutes, by name and by the SHA-256 of the caller's address,
-- so that every instance refuses the sixth guess alike. Old rows are pruned as new ones come.
CREATE TABLE sign_in_failures (
    id           TEXT PRIMARY KEY NOT NULL,
    username     TEXT NOT NULL,
    address_hash TEXT NOT NULL,
    at           TIMESTAMP NOT NULL
);
CREATE INDEX sign_in_failures_by_name ON sign_in_failures (username, at);
CREATE INDEX sign_in_failures_by_address ON sign_in_failures (address_hash, at);
