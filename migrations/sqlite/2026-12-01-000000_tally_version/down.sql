-- Older builds read tallies without the version byte.
UPDATE tallies SET data = substr(data, 2), profile = substr(profile, 2);
