DROP TABLE report_verifications;
