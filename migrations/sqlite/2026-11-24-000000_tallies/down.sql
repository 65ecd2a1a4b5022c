DROP INDEX responses_suggestions;
DROP TABLE tallies;
