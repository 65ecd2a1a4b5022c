DROP TABLE kiosk_devices;
