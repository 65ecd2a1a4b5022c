DROP TABLE unit_logos;
ALTER TABLE units DROP COLUMN head_id, DROP COLUMN head_name, DROP COLUMN city, DROP COLUMN address;
