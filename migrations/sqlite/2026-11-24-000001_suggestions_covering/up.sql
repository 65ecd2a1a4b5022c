-- A report lists its newest suggestions: keep everything the list shows in the index itself,
-- so that a unit's suggestions are read in order from one place instead of row by row from
-- all over the table. The text is stored twice, for the ~1 in 5 responses that have one.
DROP INDEX responses_suggestions;
CREATE INDEX responses_suggestions
    ON responses (unit_code, instrument, received_at, service_code, channel, flags, suggestion)
    WHERE suggestion IS NOT NULL AND suggestion <> '';
