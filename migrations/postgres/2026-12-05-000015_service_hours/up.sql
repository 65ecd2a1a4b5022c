-- A unit's service hours (issue 29), as JSON: {"mon": "08:00-16:00", ...}; days left out are
-- closed; none kept means those of the unit above, else Monday to Saturday 07:00-17:00.
ALTER TABLE units ADD COLUMN service_hours TEXT;
