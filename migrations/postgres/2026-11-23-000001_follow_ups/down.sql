DROP INDEX follow_ups_unit_period;
DROP TABLE follow_ups;
