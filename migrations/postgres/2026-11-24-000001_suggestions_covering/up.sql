-- SQLite now keeps what a suggestion list shows in this index (a covering index). PostgreSQL
-- cannot: a B-tree entry holds at most about 2,700 bytes and a 2,000-character suggestion may
-- take up to 8,000, so its index stays as it is and this migration only documents it.
COMMENT ON INDEX responses_suggestions IS
    'responses with a suggestion, the only rows a report reads; the text stays in the table (an index entry holds at most ~2,700 bytes)';
