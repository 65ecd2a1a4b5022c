ALTER TABLE units DROP COLUMN public_results;
