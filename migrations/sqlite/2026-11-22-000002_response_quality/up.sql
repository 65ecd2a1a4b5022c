-- What abuse control and clock-skew measurement need: when the respondent started (client
-- clock), the device's measured clock offset, and a device id chosen by the kiosk.
ALTER TABLE responses ADD COLUMN started_at TIMESTAMP;
ALTER TABLE responses ADD COLUMN clock_offset_ms BIGINT;
ALTER TABLE responses ADD COLUMN device_id TEXT;
CREATE INDEX responses_device_time ON responses (device_id, received_at);
