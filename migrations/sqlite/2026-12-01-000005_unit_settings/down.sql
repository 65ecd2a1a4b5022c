DROP TABLE unit_logos;
ALTER TABLE units DROP COLUMN head_id;
ALTER TABLE units DROP COLUMN head_name;
ALTER TABLE units DROP COLUMN city;
ALTER TABLE units DROP COLUMN address;
