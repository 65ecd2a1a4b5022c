-- Two-step sign-in (issue 15): a person's TOTP secret (RFC 6238; the server must keep it to
-- check codes, so it is kept as given and never listed or logged), when they confirmed it with
-- a first code (until then it does not count), and the last time step whose code was used, so
-- that a code is never accepted twice.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_confirmed_at TIMESTAMP;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
