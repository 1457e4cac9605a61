"""The fixtures (harness_target, reference_services, harness_deliver) in a user's project, with and without xdist."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from reference_services import RunningStack, start_stack
from tests.support.docs import code_blocks
from tests.support.pytester_project import Project

CASES = """\
cases:
  - id: cells-2
    input: {course_title: Introduction to Biology, course_topic: Cell Structure, num_questions: 2}
    checks: [choices_present, where_cases_went]
    parity: structural
"""

# Case items and fixture tests note which services they reached, per xdist worker.
CONFTEST = """\
import json, os

import harness
import pytest


def note(kind, url):
    line = json.dumps({"worker": os.environ.get("PYTEST_XDIST_WORKER", "main"), "kind": kind, "url": url})
    with open(os.environ["NOTES"], "a", encoding="utf-8") as notes:
        notes.write(line + "\\n")


@harness.check("where_cases_went")
def where_cases_went(ctx, arg):
    note("case", ctx.outcome.request["url"].split("/examgenerator")[0])


@pytest.fixture
def anyio_backend():
    return "asyncio"
"""

TESTS = """\
import pytest

import harness
from conftest import note

EXAM = {"course_title": "Introduction to Biology", "course_topic": "Cell Structure", "num_questions": 2}


@pytest.mark.parametrize("n", range(3))
def test_target_and_unmarked_reference_services_are_the_runs(harness_target, reference_services, n):
    assert reference_services == harness_target
    assert harness_target.model_url.endswith("/v1")
    note("target", harness_target.base_url)


@pytest.mark.parametrize("n", range(3))
@pytest.mark.reference_faults("prod_drops_choices")
def test_marked_faults_get_their_own_shared_stack(reference_services, harness_target, harness_deliver, n):
    assert reference_services.base_url != harness_target.base_url
    # One callback secret, so this process's receiver verifies the faulted stack's callbacks too.
    assert reference_services.callback_secret == harness_target.callback_secret
    prod = harness_deliver("examgenerator", "prod", EXAM)
    assert prod.request["url"].startswith(reference_services.base_url)
    assert prod.problems == []
    assert not harness.run_check(prod, "choices_present").passed
    note("faulted", reference_services.base_url)


def test_deliver_judges_a_flow(harness_deliver, harness_target):
    qa = harness_deliver("examgenerator", "qa", EXAM)
    prod = harness_deliver("examgenerator", "prod", EXAM)
    assert prod.delivery == "callback"
    harness.assert_passed(
        qa, prod, harness.run_check(prod, "choices_present"), harness.compare(qa, prod, level="structural")
    )
    note("deliver", qa.request["url"].split("/examgenerator")[0])


@pytest.mark.anyio
async def test_deliver_from_async_code(harness_deliver):
    chat = {"user_id": "u1", "course": "Macroeconomics 201", "conversation_id": "py-1",
            "message": "Can you explain the difference between nominal and real GDP?"}
    outcome = await harness_deliver.adeliver("studycompanion", "prod", chat)
    assert (outcome.delivery, outcome.problems) == ("sse", [])
    assert (await harness.arun_check(outcome, "retrieval_miss")).passed
    qa = await harness_deliver.adeliver("studycompanion", "qa", {**chat, "conversation_id": "py-1-qa"})
    parity = await harness.acompare(qa, outcome, level="semantic", settings=harness_deliver.settings)
    assert parity.judge.startswith("embeddings: "), parity.summary  # the run's embedder, not the lexical stand-in
    harness.assert_passed(parity)
"""


# docs/how-to/python-api.md's example, verbatim (test_docs_show_the_tested_example keeps them equal).
EXAMPLE = """\
import uuid

import pytest

import harness

EXAM = {"course_title": "Introduction to Biology", "course_topic": "Cell Structure", "num_questions": 3}
GDP = "Can you explain the difference between nominal and real GDP?"
FOLLOW_UP = "Got it. So what causes real GDP to rise or fall over time?"


def test_exam_endpoints_agree(harness_deliver):
    qa = harness_deliver("examgenerator", "qa", EXAM)
    prod = harness_deliver("examgenerator", "prod", EXAM)  # an async job: waits for its signed callback
    harness.assert_passed(
        qa,
        prod,
        harness.run_check(prod, "exam_format"),
        harness.run_check(prod, "question_count"),  # 3: the num_questions prod was sent
        harness.compare(qa, prod, level="structural"),
    )


def test_a_follow_up_continues_the_conversation(harness_deliver):
    chat = {"user_id": "u1", "course": "Macroeconomics 201", "conversation_id": f"py-{uuid.uuid4().hex}"}
    harness_deliver("studycompanion", "prod", {**chat, "message": GDP})
    follow_up = harness_deliver("studycompanion", "prod", {**chat, "message": FOLLOW_UP})
    harness.assert_passed(follow_up, harness.run_check(follow_up, "icontains", ["rise", "fall"]))


@pytest.mark.reference_faults("prod_drops_choices")
def test_dropped_choices_are_caught(harness_deliver):
    prod = harness_deliver("examgenerator", "prod", EXAM)
    with pytest.raises(harness.CheckFailed, match="choices missing: 3 of 3 questions"):
        harness.assert_passed(harness.run_check(prod, "choices_present"))


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_from_async_code(harness_deliver):
    chat = {"user_id": "u1", "course": "Macroeconomics 201", "conversation_id": "py-async", "message": GDP}
    reply = await harness_deliver.adeliver("studycompanion", "prod", chat)  # the test's loop keeps running
    assert reply.timings.ttft_s < 5.0
    harness.assert_passed(reply, await harness.arun_check(reply, "retrieval_miss"))
"""


@pytest.fixture
def fixture_project(project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    project.exam_service()
    project.chat_service()
    project.write("cases/examgenerator/exams.yaml", CASES)
    project.write("conftest.py", CONFTEST)
    project.write("test_flow.py", TESTS)
    monkeypatch.setenv("NOTES", str(project.root / "notes.jsonl"))
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # when this suite itself runs under xdist
    return project


def _notes(project: Project) -> dict[str, dict[str, set[str]]]:
    """kind -> worker -> base URLs noted."""
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for line in (project.root / "notes.jsonl").read_text(encoding="utf-8").splitlines():
        note = json.loads(line)
        seen[note["kind"]][note["worker"]].add(note["url"])
    return seen


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_fixtures_share_the_runs_services_and_start_one_stack_per_fault_set(
    fixture_project: Project, xdist: list[str]
) -> None:
    result = fixture_project.run(*xdist)
    result.assert_outcomes(passed=3 + 3 + 3 + 2)  # the case's three items, then test_flow.py
    seen = _notes(fixture_project)
    workers = set(seen["target"]) | set(seen["faulted"]) | set(seen["case"])
    assert workers <= ({"gw0", "gw1"} if xdist else {"main"})
    for worker in workers:
        # Per process: one target for case items, fixtures and deliveries; one stack for the marked fault set.
        run_urls = seen["target"][worker] | seen["case"][worker] | seen["deliver"][worker]
        assert len(run_urls) == 1, f"{worker} reached several targets: {run_urls}"
        assert len(seen["faulted"][worker]) <= 1, f"{worker} started a stack per test: {seen['faulted'][worker]}"
        assert not run_urls & seen["faulted"][worker]
    assert sum(len(urls) for urls in seen["faulted"].values()) >= 1


def _allure_results(project: Project) -> Iterator[dict[str, Any]]:
    for path in (project.root / "reports" / "allure-results").glob("*-result.json"):
        yield json.loads(path.read_text(encoding="utf-8"))


def _step_names(steps: list[dict[str, Any]]) -> Iterator[str]:
    for step in steps:
        yield step["name"]
        yield from _step_names(step.get("steps", []))


def _attachment_names(node: dict[str, Any]) -> Iterator[str]:
    for attachment in node.get("attachments", []):
        yield attachment["name"]
    for step in node.get("steps", []):
        yield from _attachment_names(step)


def test_deliveries_are_reported_like_case_items_under_xdist(fixture_project: Project) -> None:
    result = fixture_project.run("-n", "2", "-k", "judges_a_flow")
    result.assert_outcomes(passed=1)
    (flow,) = [r for r in _allure_results(fixture_project) if r["fullName"].endswith("test_deliver_judges_a_flow")]
    steps = list(_step_names(flow["steps"]))
    assert any(re.match(r"request qa: POST http://127\.0\.0\.1:\d+/examgenerator/create/qa$", s) for s in steps)
    assert any(s.startswith("delivery prod (callback): status 202") for s in steps)
    assert {"qa request", "qa curl", "QA output", "prod callback deliveries", "prod timings"} <= set(
        _attachment_names(flow)
    )


def test_python_failures_read_like_the_case_items(project: Project) -> None:
    project.exam_service()
    project.write("cases/examgenerator/exams.yaml", CASES.replace(", where_cases_went", ""))
    project.write(
        "test_flow.py",
        """\
import harness

EXAM = {"course_title": "Introduction to Biology", "course_topic": "Cell Structure", "num_questions": 2}


def test_flow(harness_deliver):
    qa = harness_deliver("examgenerator", "qa", EXAM)
    prod = harness_deliver("examgenerator", "prod", EXAM)
    harness.assert_passed(qa, prod, harness.run_check(prod, "choices_present"), harness.compare(qa, prod))
""",
    )
    result = project.run("--reference-faults", "prod_drops_choices")
    result.assert_outcomes(passed=1, failed=3)
    lines = result.stdout.lines

    def after(prefix: str) -> list[str]:
        # Not the short summary: it cuts lines to the terminal's width.
        return [line[line.index(prefix) :] for line in lines if prefix in line and not line.startswith("FAILED")]

    case_choices = after("choices_present: choices missing")
    parity = after("structural parity failed:")
    # The case item's line and the Python test's (E   harness._errors.CheckFailed: ...) carry the same words.
    assert len(case_choices) >= 2, result.stdout.str()
    assert len(set(case_choices)) == 1, case_choices
    assert len(parity) >= 2, result.stdout.str()
    assert len(set(parity)) == 1, parity


@pytest.fixture(scope="module")
def staging() -> Iterator[RunningStack]:
    with start_stack() as stack:
        yield stack


def test_base_url_is_the_target_and_reference_services_still_run_in_process(
    project: Project, staging: RunningStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.exam_service()
    project.write(
        "test_staging.py",
        """\
import os

import harness


def test_target(harness_target, reference_services, harness_deliver):
    url, token, secret = (os.environ[name] for name in ("STAGING_URL", "STAGING_TOKEN", "STAGING_SECRET"))
    assert harness_target == harness.Target(url, token, secret)
    assert reference_services.base_url != harness_target.base_url
    exam = {"course_title": "Biology", "course_topic": "Cells", "num_questions": 1}
    prod = harness_deliver("examgenerator", "prod", exam)
    assert prod.request["url"].startswith(os.environ["STAGING_URL"])
    harness.assert_passed(prod, harness.run_check(prod, "exam_format"))
""",
    )
    monkeypatch.setenv("STAGING_URL", staging.base_url)
    monkeypatch.setenv("STAGING_TOKEN", staging.qa_token)
    monkeypatch.setenv("STAGING_SECRET", staging.callback_secret)
    monkeypatch.setenv("HARNESS_CALLBACK_SECRET", staging.callback_secret)
    result = project.run("--base-url", staging.base_url, "--harness-qa-token", staging.qa_token)
    result.assert_outcomes(passed=1)


def test_an_unknown_fault_is_one_clear_error(project: Project) -> None:
    project.exam_service()
    project.write(
        "test_faults.py",
        """\
import pytest


@pytest.mark.reference_faults("prod_drops_everything")
def test_faulted(reference_services):
    pass
""",
    )
    result = project.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cannot start the reference services:*prod_drops_everything*"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_the_docs_example_passes_under_xdist(project: Project) -> None:
    project.exam_service()
    project.chat_service()
    project.write("tests/test_exam_flows.py", EXAMPLE)
    result = project.run("-n", "2")
    result.assert_outcomes(passed=4)


def test_docs_show_the_tested_example() -> None:
    page = "how-to/python-api.md"
    assert EXAMPLE in code_blocks(page, "python"), f"docs/{page}: the example differs from the tested one"
