DROP TABLE archives;
DROP TABLE submissions;
