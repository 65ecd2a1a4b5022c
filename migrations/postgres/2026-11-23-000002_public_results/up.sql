-- Whether a unit publishes its results: a public page (/p/{unit}) and an embeddable badge.
ALTER TABLE units ADD COLUMN public_results BOOLEAN NOT NULL DEFAULT FALSE;
