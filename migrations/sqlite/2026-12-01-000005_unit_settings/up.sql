-- What a unit's report letterhead and signature need (issues 15 and 16): its address and city,
-- its head's name and NIP; and its logo, kept apart so that listing units never reads images.
ALTER TABLE units ADD COLUMN address TEXT;
ALTER TABLE units ADD COLUMN city TEXT;
ALTER TABLE units ADD COLUMN head_name TEXT;
ALTER TABLE units ADD COLUMN head_id TEXT;

CREATE TABLE unit_logos (
    unit_code    TEXT PRIMARY KEY NOT NULL REFERENCES units (code),
    content_type TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
