DROP TABLE populations;
DROP TABLE responses;
DROP TABLE api_keys;
DROP TABLE services;
DROP TABLE units;
