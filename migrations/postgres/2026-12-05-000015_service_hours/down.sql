ALTER TABLE units DROP COLUMN service_hours;
