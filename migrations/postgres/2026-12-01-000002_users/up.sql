-- People who sign in (issue 15): a user name, an argon2id hash of the password (PHC string,
-- never the password), a role (admin, manager, viewer) and the units a manager or viewer
-- works for (a JSON array of unit codes). A disabled user keeps the row for the audit trail.
CREATE TABLE users (
    username            TEXT PRIMARY KEY NOT NULL,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL,
    units               TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    password_changed_at TIMESTAMP NOT NULL,
    disabled_at         TIMESTAMP
);
