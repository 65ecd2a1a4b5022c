ALTER TABLE units DROP COLUMN head_title, DROP COLUMN head_rank, DROP COLUMN website,
    DROP COLUMN email, DROP COLUMN phone, DROP COLUMN authority;
