-- The kiosk fleet: each enrolled tablet's last heartbeat, by the key it uses and the device id
-- it chose for itself. What it reports: the page version, the surveys waiting on it, its last
-- successful send, its clock's offset from the server's, and its last error. No person's data.
CREATE TABLE kiosk_devices (
    key_id          TEXT NOT NULL REFERENCES api_keys (id),
    device_id       TEXT NOT NULL,
    page_version    TEXT NOT NULL,
    waiting         BIGINT NOT NULL,
    last_sent_at    TIMESTAMP,
    clock_offset_ms BIGINT,
    last_error      TEXT,
    first_seen_at   TIMESTAMP NOT NULL,
    last_seen_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (key_id, device_id)
);
