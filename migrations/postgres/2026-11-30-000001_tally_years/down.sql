-- Year spans are harmless to older code, which never reads them.
SELECT 1;
