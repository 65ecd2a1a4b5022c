DROP INDEX responses_suggestions;
CREATE INDEX responses_suggestions ON responses (unit_code, instrument, received_at)
    WHERE suggestion IS NOT NULL AND suggestion <> '';
