DROP TABLE ombudsman_assessments;
