-- A failed sign-in from a browser that signed in as that person before carries the hash of its
-- device cookie's id and counts against that browser alone; one without (NULL) counts against
-- the name and the address, as before.
ALTER TABLE sign_in_failures ADD COLUMN device_hash TEXT;
CREATE INDEX sign_in_failures_by_device ON sign_in_failures (device_hash, at);
