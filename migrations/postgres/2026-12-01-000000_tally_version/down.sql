-- Older builds read tallies without the version byte.
UPDATE tallies SET data = substring(data FROM 2), profile = substring(profile FROM 2);
