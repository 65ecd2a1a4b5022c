-- What a report a unit head signs prints (issue 29): the authority above the unit in its
-- letterhead (inherited from the units above when empty), its telephone, e-mail and website,
-- and the head's rank (pangkat/golongan) and title as signed (such as "Plt. Kepala Dinas").
ALTER TABLE units ADD COLUMN authority TEXT;
ALTER TABLE units ADD COLUMN phone TEXT;
ALTER TABLE units ADD COLUMN email TEXT;
ALTER TABLE units ADD COLUMN website TEXT;
ALTER TABLE units ADD COLUMN head_rank TEXT;
ALTER TABLE units ADD COLUMN head_title TEXT;
