ALTER TABLE users DROP COLUMN totp_last_step, DROP COLUMN totp_confirmed_at, DROP COLUMN totp_secret;
