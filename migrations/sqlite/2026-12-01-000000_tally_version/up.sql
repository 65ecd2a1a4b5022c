-- Every stored tally and profile starts with its encoding version (1), so a later change to
-- the encoding can be told from this one. The rows stored so far are version 1 without the
-- byte: it is put in front of them, byte for byte (`||` joins the bytes; CAST keeps a BLOB).
UPDATE tallies SET data = CAST(X'01' || data AS BLOB), profile = CAST(X'01' || profile AS BLOB);
