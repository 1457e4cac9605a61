"""A case file with a dataset collects one case per row, runs against the services, and a bad row stops
collection naming the dataset file:line."""

from __future__ import annotations

import json

import pytest

from tests.support.pytester_project import Project

CASE_FILE = """\
defaults:
  checks: [retrieval_miss]
dataset:
  file: questions.jsonl
template:
  id: "${id}"
  input: {user_id: u1, course: "${course}", conversation_id: ds, message: "${question}"}
  checks: [{expected_sources: "${sources}"}, {icontains: "${must_contain}"}]
"""
ROWS = "".join(
    json.dumps(row) + "\n"
    for row in (
        {
            "id": "gdp",
            "course": "Macroeconomics 201",
            "question": "What is nominal GDP?",
            "sources": ["macro201/lecture-notes-gdp"],
            "must_contain": ["prices"],
        },
        {
            "id": "atp",
            "course": "Introduction to Biology",
            "question": "How do mitochondria generate ATP?",
            "sources": ["bio101/lecture-notes-cells"],
            "must_contain": "respiration",  # one string: icontains takes either
        },
    )
)


def test_a_dataset_case_file_runs_one_case_per_row(project: Project) -> None:
    project.chat_service()
    project.write("cases/studycompanion/dataset.yaml", CASE_FILE)
    project.write("cases/studycompanion/questions.jsonl", ROWS)
    collected = project.pytester.runpytest("--collect-only", "-q")
    collected.stdout.fnmatch_lines(
        [
            "cases/studycompanion/dataset.yaml::gdp::qa",
            "cases/studycompanion/dataset.yaml::gdp::prod",
            "cases/studycompanion/dataset.yaml::gdp::parity",
            "cases/studycompanion/dataset.yaml::atp::parity",
        ]
    )
    project.pytester.runpytest().assert_outcomes(passed=6)


def test_a_bad_row_stops_collection_with_the_dataset_file_and_line(project: Project) -> None:
    project.chat_service()
    project.write("cases/studycompanion/dataset.yaml", CASE_FILE)
    bad_row = '{"id": "no-sources", "course": "x", "question": "q"}\n'
    project.write("cases/studycompanion/questions.jsonl", ROWS + bad_row)
    result = project.pytester.runpytest("--collect-only")
    result.stdout.fnmatch_lines(
        [
            "cases/studycompanion/questions.jsonl:3: row 3: no column 'sources', which the template uses *",
            "  template: cases/studycompanion/dataset.yaml:8",
            "  fix: add 'sources' to the row, or correct '${sources}' in the template",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    assert result.ret == pytest.ExitCode.INTERRUPTED
