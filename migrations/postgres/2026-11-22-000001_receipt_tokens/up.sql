-- Receipt tokens issued by the server, and the spending of any receipt token (server-issued
-- or minted offline by a counter system). Only hashes of tokens are stored.

CREATE TABLE receipt_tokens (
    token_hash      TEXT PRIMARY KEY NOT NULL,
    unit_code       TEXT NOT NULL REFERENCES units (code),
    service_code    TEXT,
    transaction_ref TEXT,
    issued_at       TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    key_id          TEXT
);

CREATE TABLE token_spends (
    token_hash    TEXT PRIMARY KEY NOT NULL,
    submission_id TEXT NOT NULL REFERENCES responses (submission_id),
    spent_at      TIMESTAMP NOT NULL
);
