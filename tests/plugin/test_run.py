"""Running cases end to end through the plugin: outcomes, failure messages, targets, xdist, selection."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.pytester_project import Project

EXAM_CASES = """\
defaults:
  checks: [exam_format, question_count, choices_present, answer_key_valid, model_version_equal]
  parity: structural
cases:
  - id: cells-2
    input: {course_title: Introduction to Biology, course_topic: Cell Structure, num_questions: 2}
"""

CHAT_CASES = """\
cases:
  - id: gdp-follow-up
    input: {user_id: u1, course: Macroeconomics 201, conversation_id: x}
    checks: [retrieval_miss, conversation_is_per_endpoint]
    parity: exact
    turns:
      - input: {message: "Can you explain the difference between nominal and real GDP?"}
      - input: {message: "Got it. So what causes real GDP to rise or fall over time?"}
        checks: [{icontains: [rise, fall]}]
"""

CONFTEST = """\
import harness

@harness.check("conversation_is_per_endpoint")
def conversation_is_per_endpoint(ctx, arg):
    conversation = ctx.input["conversation_id"]
    assert conversation != "x", "the case's placeholder id was sent as-is"
    assert f"-{ctx.endpoint}-" in conversation, f"{conversation!r} is not specific to {ctx.endpoint}"
"""


@pytest.fixture
def suite(project: Project) -> Project:
    project.exam_service()
    project.chat_service()
    project.write("cases/examgenerator/exams.yaml", EXAM_CASES)
    project.write("cases/studycompanion/chat.yaml", CHAT_CASES)
    project.write("conftest.py", CONFTEST)
    return project


def test_suite_passes_against_in_process_services(suite: Project) -> None:
    result = suite.run("-v")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*exams.yaml::cells-2::prod PASSED*", "*chat.yaml::gdp-follow-up::parity PASSED*"])


def test_a_fault_fails_prod_and_parity_saying_what_is_missing(suite: Project) -> None:
    result = suite.run("--reference-faults", "prod_drops_choices", "-k", "cells")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*cells-2::prod*",
            "prod of case 'cells-2' failed:",
            "choices_present: choices missing: 2 of 2 questions have no choices*",
            "*cells-2::parity*",
            "structural parity failed: structure differs: questions 1-2: qa has choices a-d, prod has none",
            "-a)  *",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_same_results_under_xdist(suite: Project) -> None:
    clean = suite.run("-n", "2")
    clean.assert_outcomes(passed=6)
    faulty = suite.run("-n", "2", "--reference-faults", "prod_drops_choices")
    faulty.assert_outcomes(passed=4, failed=2)


def test_unreachable_service_is_an_error_not_a_failure(suite: Project) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    result = suite.run("--base-url", f"http://127.0.0.1:{closed_port}", "--harness-timeout", "5", "-k", "cells")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*cannot reach POST http://127.0.0.1:*Is the service running? Check --base-url.*"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_repeats_report_the_pass_rate(suite: Project) -> None:
    result = suite.run("--harness-repeat", "3", "--reference-faults", "prod_drops_choices", "-k", "cells and prod")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "pass rate 0% over 3 runs, below min_pass_rate 100%",
            "(repeat 1) exam_format: exam format: 2 problem(s) in 2 question(s):",
        ]
    )


def test_exitfirst_and_last_failed(suite: Project) -> None:
    suite.pytester.makeini("[pytest]\n")  # the cache is needed for --lf
    first = suite.run("-x", "--reference-faults", "prod_drops_choices", "-p", "no:randomly")
    first.assert_outcomes(passed=1, failed=1)
    rerun = suite.run("--lf", "--reference-faults", "prod_drops_choices")
    rerun.assert_outcomes(failed=1)
    rerun.stdout.fnmatch_lines(["*run-last-failure: rerun previous 1 failure*"])


@pytest.fixture(scope="module")
def standalone() -> Iterator[tuple[str, str, str]]:
    """``python -m reference_services`` in its own process, as a staging stand-in."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = "whsec_" + "c2VjcmV0LWZvci10aGUtc3RhbmRhbG9uZS10ZXN0"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reference_services",
            "--port",
            str(port),
            "--qa-token",
            "T0ken-for-tests",
            "--callback-secret",
            secret,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "REFERENCE_FAULTS": ""},
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("python -m reference_services did not start within 20 s")
        time.sleep(0.1)
    yield base_url, "T0ken-for-tests", secret
    process.terminate()
    process.wait(timeout=10)


def test_base_url_targets_a_running_service(suite: Project, standalone: tuple[str, str, str]) -> None:
    base_url, token, secret = standalone
    args = ["--base-url", base_url, "--harness-qa-token", token, "--harness-callback-secret", secret]
    result = suite.run(*args, "-n", "2")
    result.assert_outcomes(passed=6)
    header = suite.run(*args, "--collect-only")
    header.stdout.fnmatch_lines([f"*qa-harness: target {base_url}, concurrency 8*"])


def test_wrong_callback_secret_is_a_named_failure(suite: Project, standalone: tuple[str, str, str]) -> None:
    base_url, token, _ = standalone
    wrong = "whsec_" + "d3Jvbmctc2VjcmV0LWZvci10aGUtdGVzdA=="
    result = suite.run(
        "--base-url",
        base_url,
        "--harness-qa-token",
        token,
        "--harness-callback-secret",
        wrong,
        "--harness-timeout",
        "3",
        "-k",
        "cells and prod",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*callback_bad_signature*"])


def test_env_token_is_used_when_no_option(
    suite: Project, standalone: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, token, secret = standalone
    monkeypatch.setenv("HARNESS_QA_TOKEN", token)
    monkeypatch.setenv("HARNESS_CALLBACK_SECRET", secret)
    result = suite.run("--base-url", base_url, "-k", "cells and qa")
    result.assert_outcomes(passed=1)
    monkeypatch.setenv("HARNESS_QA_TOKEN", "not-the-token")
    result = suite.run("--base-url", base_url, "-k", "cells and qa")
    result.assert_outcomes(failed=1)


def test_xdist_keeps_each_case_on_one_worker_and_shares_files(suite: Project) -> None:
    # A case's QA, prod and parity items share one result: they must run where it was delivered. Files are
    # shared out case by case, so a file of slow cases keeps both workers busy.
    for number in range(4):
        cases = "\n".join(
            f"  - id: c{number}-{n}\n    input: {{course_title: Introduction to Biology, course_topic: Cell Structure,"
            f" num_questions: 1}}\n    checks: [exam_format]"
            for n in range(4)
        )
        suite.write(f"cases/examgenerator/file{number}.yaml", f"cases:\n{cases}\n")
    result = suite.run("-n", "2", "-v", "-k", "file")
    result.assert_outcomes(passed=48)
    by_case: dict[str, set[str]] = {}
    by_file: dict[str, set[str]] = {}
    for line in result.stdout.lines:
        if "PASSED" in line and "file" in line and line.startswith("[gw"):
            worker = line.split("]", 1)[0].strip("[")
            path, case, _ = line.split()[-1].split("::")
            by_case.setdefault(f"{path}::{case}", set()).add(worker)
            by_file.setdefault(path, set()).add(worker)
    assert len(by_case) == 16
    assert all(len(ran_on) == 1 for ran_on in by_case.values()), by_case
    assert all(len(ran_on) == 2 for ran_on in by_file.values()), by_file


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_cases_are_in_flight_at_once(suite: Project, workers: list[str]) -> None:
    # Overlap is shown by the deliveries' own start times and durations, not by timing the run.
    cases = "\n".join(
        f"  - id: c{n}\n    endpoints: [qa]\n    input: {{course_title: Introduction to Biology,"
        f" course_topic: Cell Structure, num_questions: 1}}"
        for n in range(6)
    )
    suite.write("cases/examgenerator/overlap.yaml", f"cases:\n{cases}\n")
    result = suite.run("-k", "overlap", "--reference-model-latency-ms", "300", "--harness-concurrency", "8", *workers)
    result.assert_outcomes(passed=6)
    records = json.loads((suite.root / "reports" / "run.json").read_text())
    spans = sorted(
        (outcome["started_at"], outcome["started_at"] + outcome["total_s"]) for outcome in _outcomes(records)
    )
    assert len(spans) == 6
    overlapping = sum(1 for (_, end), (start, _) in itertools.pairwise(spans) if start < end)
    # One at a time, no delivery would start before the previous ended. In flight together, most do.
    assert overlapping >= 3, spans


def _outcomes(run_record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every outcome in a run.json."""
    for case in run_record["cases"]:
        for part in case["parts"].values():
            for run in part.get("runs", []):
                for turn in run.get("turns", []):
                    yield turn["outcome"]


def test_judge_without_a_grader_skips_with_the_fix(suite: Project, standalone: tuple[str, str, str]) -> None:
    # Against a deployed target there is no embedded grader: the judged item is skipped, saying what to set.
    suite.write(
        "cases/studycompanion/judged.yaml",
        """\
cases:
  - id: judged
    endpoints: [qa]
    input: {user_id: u1, course: Macroeconomics 201, conversation_id: x,
            message: "Can you explain the difference between nominal and real GDP?"}
    checks: [retrieval_miss, {llm_judge: {rubric: 'Must mention "current prices"'}}]
""",
    )
    base_url, token, _ = standalone
    result = suite.run("--base-url", base_url, "--harness-qa-token", token, "-k", "judged", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*llm_judge: llm_judge needs a grader: set --harness-judge-url*"])
    with_fault = suite.run("--base-url", base_url, "--harness-qa-token", "wrong", "-k", "judged")
    with_fault.assert_outcomes(failed=1)  # a check that ran and failed still fails the item
