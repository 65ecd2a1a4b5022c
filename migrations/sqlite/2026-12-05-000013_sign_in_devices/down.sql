DROP INDEX sign_in_failures_by_device;
ALTER TABLE sign_in_failures DROP COLUMN device_hash;
