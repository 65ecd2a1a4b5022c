-- What a unit's staff note on a suggestion (issue 16): the item it is about (a fixed category per
-- item), free tags, and the follow-up plan that acts on it ("ditindaklanjuti"), published with
-- the plan. Keyed by the response, whose text stays where it is.
CREATE TABLE suggestion_notes (
    submission_id TEXT PRIMARY KEY NOT NULL,
    category      TEXT,
    tags          TEXT NOT NULL,
    follow_up_id  TEXT REFERENCES follow_ups (id),
    updated_at    TIMESTAMP NOT NULL,
    updated_by    TEXT NOT NULL
);
CREATE INDEX suggestion_notes_follow_up ON suggestion_notes (follow_up_id);
