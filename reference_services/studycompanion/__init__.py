"""studycompanion: answers course questions from course materials; SSE prod endpoint, sync QA endpoint."""
