DROP TABLE report_narratives;
