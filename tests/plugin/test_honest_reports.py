"""Reports that cannot lie or leak: exit status and collection errors in summary.md and run.json, bad
options stopped before anything runs, secrets masked in every file and terminal line."""

from __future__ import annotations

import json
import socket

import pytest

from tests.support.pytester_project import Project

GOOD_CASES = """\
cases:
  - id: cells
    input: {course_title: Biology, course_topic: Cells, num_questions: 2}
    checks: [exam_format]
"""


def test_a_collection_error_is_never_summarised_as_a_pass(project: Project) -> None:
    project.exam_service()
    project.write("cases/examgenerator/good.yaml", GOOD_CASES)
    project.write("cases/examgenerator/broken.yaml", "cases:\n  - id: x\n    chekcs: [exam_format]\n")
    result = project.run()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    summary = (project.root / "reports" / "summary.md").read_text()
    assert "✅" not in summary
    assert summary.startswith("## ❌ qa-harness: 1 collection error, no tests ran (pytest exit status 2: interrupted)")
    assert "cases/examgenerator/broken.yaml" in summary
    run = json.loads((project.root / "reports" / "run.json").read_text())
    assert run["exit_status"] == {"code": 2, "name": "interrupted"}
    assert [e["nodeid"] for e in run["collection_errors"]] == ["cases/examgenerator/broken.yaml"]
    assert "unknown key 'chekcs'" in run["collection_errors"][0]["message"]


def test_a_passing_run_records_exit_status_zero(project: Project) -> None:
    project.exam_service()
    project.write("cases/examgenerator/good.yaml", GOOD_CASES)
    result = project.run("-n", "2")
    result.assert_outcomes(passed=3)
    run = json.loads((project.root / "reports" / "run.json").read_text())
    assert run["exit_status"] == {"code": 0, "name": "ok"}
    assert (project.root / "reports" / "summary.md").read_text().startswith("## ✅ qa-harness: 3 passed")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--harness-timeout", "nan"], "--harness-timeout must be a finite number, got 'nan'"),
        (["--harness-timeout", "inf"], "--harness-timeout must be a finite number, got 'inf'"),
        (["--reference-faults", "no_such_fault"], "--reference-faults: unknown fault(s): no_such_fault; valid faults"),
        (["--harness-report-dir", "blocker/reports"], "--harness-report-dir * cannot write there"),
    ],
)
def test_bad_option_values_stop_the_run_with_one_usage_error(project: Project, args: list[str], message: str) -> None:
    project.exam_service()
    project.write("cases/examgenerator/good.yaml", GOOD_CASES)
    project.write("blocker", "a file where a folder should be\n")
    result = project.run(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_secrets_are_masked_in_terminal_junit_run_json_and_summary(project: Project) -> None:
    project.exam_service()
    project.write(
        "cases/examgenerator/leak.yaml",
        """\
        cases:
          - id: echo
            input: {course_title: Biology, course_topic: Cells, num_questions: 2}
            checks: [{contains: tok-SECRET-1}]
        """,
    )
    # A failure text that carries the QA token, and a --base-url with a password (unreachable: no server).
    echo = project.run("--harness-qa-token", "tok-SECRET-1")
    echo.assert_outcomes(failed=2, passed=1)
    unreachable = project.run(
        "--base-url", f"http://user:pw-SECRET-2@127.0.0.1:{_closed_port()}", "--harness-report-dir", "reports2"
    )
    unreachable.assert_outcomes(errors=3)
    for result, reports, secret in ((echo, "reports", "tok-SECRET-1"), (unreachable, "reports2", "pw-SECRET-2")):
        assert secret not in result.stdout.str() + result.stderr.str()
        for name in ("junit.xml", "run.json", "summary.md"):
            text = (project.root / reports / name).read_text()
            assert secret not in text, f"{secret} leaked into {name}"
    assert "***" in echo.stdout.str()
    # One error per item, said once: no traceback, no exception chain repeating it.
    # (Counted above the short summary, which repeats each message whole when pytest runs under CI.)
    sections = unreachable.stdout.str().split("short test summary info")[0]
    assert sections.count("Is the service running? Check --base-url.") == 3
    assert "The above exception was the direct cause" not in unreachable.stdout.str()


def test_in_process_services_use_the_qa_token_and_secret_the_user_gives(project: Project) -> None:
    project.exam_service()
    project.write(
        "tests/test_token.py",
        """\
        import httpx


        def test_the_given_token_is_the_services_token(harness_target):
            assert harness_target.qa_token == "tok-given-1"
            assert harness_target.callback_secret == "whsec_dGhpcyBpcyBhIGdpdmVuIHNlY3JldA=="
            body = {"course_title": "Biology", "course_topic": "Cells", "num_questions": 1}
            url = harness_target.base_url + "/examgenerator/create/qa"
            assert httpx.post(url, json=body, headers={"Authorization": "Bearer tok-given-1"}).status_code == 200
        """,
    )
    result = project.run(
        "--harness-qa-token", "tok-given-1", "--harness-callback-secret", "whsec_dGhpcyBpcyBhIGdpdmVuIHNlY3JldA=="
    )
    result.assert_outcomes(passed=1)
