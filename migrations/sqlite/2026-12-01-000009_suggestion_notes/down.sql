DROP TABLE suggestion_notes;
