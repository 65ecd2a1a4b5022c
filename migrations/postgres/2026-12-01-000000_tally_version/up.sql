-- Every stored tally and profile starts with its encoding version (1), so a later change to
-- the encoding can be told from this one. The rows stored so far are version 1 without the
-- byte: it is put in front of them.
UPDATE tallies SET data = '\x01'::bytea || data, profile = '\x01'::bytea || profile;
