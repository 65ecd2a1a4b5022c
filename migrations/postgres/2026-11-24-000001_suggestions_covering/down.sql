COMMENT ON INDEX responses_suggestions IS NULL;
