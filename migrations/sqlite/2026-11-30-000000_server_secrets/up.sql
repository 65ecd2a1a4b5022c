-- Secrets the server makes for itself, shared by every instance on the database: the key that
-- signs the survey pages' form tickets and keys the hashes of client addresses. Made at first
-- start from the operating system's random source, never sent or logged.
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
