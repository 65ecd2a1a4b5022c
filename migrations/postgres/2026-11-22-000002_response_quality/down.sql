DROP INDEX responses_device_time;
ALTER TABLE responses DROP COLUMN device_id;
ALTER TABLE responses DROP COLUMN clock_offset_ms;
ALTER TABLE responses DROP COLUMN started_at;
