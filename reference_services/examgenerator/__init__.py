"""examgenerator: writes multiple-choice exams; async prod endpoint with signed callbacks, sync QA endpoint."""
