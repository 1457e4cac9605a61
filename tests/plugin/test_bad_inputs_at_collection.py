"""Bad inputs stop collection: one message with file:line, no traceback, nothing run.

The three of issue 22: a timeout that parses as infinity, an endpoint path with spaces, a 30 MB case file.
"""

from __future__ import annotations

import pytest

from tests.support.pytester_project import EXAM_SPEC, Project

GOOD_CASE = """\
  - id: good
    input: {course_title: Biology, course_topic: Cells, num_questions: 2}
    checks: [exam_format]
"""


def _assert_one_collection_error(result: pytest.RunResult, location: str, message: str) -> None:
    """Collection stopped with exactly this error, said once with its file:line, and nothing ran."""
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, output
    result.assert_outcomes(errors=1)
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output
    result.stdout.fnmatch_lines([f"{location}: {message}*", "no harness items ran", "*1 error during collection*"])
    assert output.count(f"{location}: ") == 1


def test_a_timeout_of_1e309_is_refused_at_collection(project: Project) -> None:
    project.exam_service()
    project.write("cases/examgenerator/slow.yaml", f'cases:\n{GOOD_CASE}    timeout_s: "1e309"\n')
    result = project.run()
    _assert_one_collection_error(
        result,
        "cases/examgenerator/slow.yaml:5",
        "invalid case file: cases.0.timeout_s: must be a finite number more than 0 and at most 86400 seconds",
    )


def test_an_endpoint_path_with_spaces_is_refused_at_collection(project: Project) -> None:
    project.write(
        "cases/examgenerator/service.yaml",
        EXAM_SPEC.replace("path: /examgenerator/create/qa", 'path: "examgenerator create qa"'),
    )
    project.write("cases/examgenerator/good.yaml", f"cases:\n{GOOD_CASE}")
    spec_error = (
        "cases/examgenerator/service.yaml:3: invalid service spec: qa.path: not a URL path: it does not start "
        "with '/'; write the path as sent below the base URL, e.g. '/examgenerator/create/qa'"
    )
    result = project.run()
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, output
    assert "Traceback" not in output
    # Said once, by the spec; the case file that uses it points there instead of repeating it.
    assert output.count(spec_error) == 1
    result.stdout.fnmatch_lines(
        [
            "cases/examgenerator/good.yaml:1: not collected: its service spec is invalid "
            "(cases/examgenerator/service.yaml)",
            f"{spec_error}*",
            "no harness items ran",
        ]
    )
    # Collecting only the case file, the spec is not collected on its own: the case file says it all.
    alone = project.run("cases/examgenerator/good.yaml")
    alone.assert_outcomes(errors=1)
    assert (alone.stdout.str()).count(spec_error) == 1


def test_a_30_mb_case_file_is_refused_with_file_and_line(project: Project) -> None:
    project.exam_service()
    path = project.root / "cases/examgenerator/huge.yaml"
    with path.open("w", encoding="utf-8") as file:
        file.write("cases:\n  - id: huge\n    input:\n      course_title: ")
        file.write("x" * (30 * 1024 * 1024))
        file.write("\n")
    result = project.run()
    _assert_one_collection_error(
        result,
        "cases/examgenerator/huge.yaml:4",
        "file is 30.0 MB; YAML files are limited to 5 MB, which this file passes at line 4",
    )
