-- Every administrative change (issue 15): who made it (a person, a key or the command line),
-- what (an action such as `unit.update`), on what (a unit code, a key id, a user name), the
-- unit it concerns (so a manager reads the changes of their units), when, and the record
-- before and after as JSON. Keys, passwords and tokens are never written here.
CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY NOT NULL,
    at         TIMESTAMP NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    unit_code  TEXT,
    before     TEXT,
    after      TEXT
);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE INDEX audit_log_by_unit ON audit_log (unit_code, at);
