"""What keeps ``-n auto`` fast, checked by what happened rather than by timing the run.

Under xdist the controller starts the in-process services once for all workers, pins every case to a worker
before the first item, and each worker keeps all of its cases in flight from its first item; no case runs
twice and every item of a case runs on the worker it is pinned to. Every process starts its longest cases
first, and drawing negative cases holds up none of the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.plugin._xdist import case_file_scope, pin_scope, pin_scopes
from tests.support.pytester_project import Project

STARTER = """\
import os
from pathlib import Path

from reference_services.inprocess import start_stack


def start(**kwargs):
    Path("starts").mkdir(exist_ok=True)
    Path("starts", str(os.getpid())).touch()
    return start_stack(**kwargs)
"""


def _case_file(prefix: str, count: int) -> str:
    return "cases:\n" + "\n".join(
        f"  - id: {prefix}-{n}\n    endpoints: [qa]\n    input: {{course_title: Introduction to Biology,"
        f" course_topic: Cell Structure, num_questions: 1}}"
        for n in range(count)
    )


@pytest.fixture
def pinned_suite(project: Project) -> Project:
    project.pytester.makeini(
        "[pytest]\naddopts = -p no:cacheprovider\npythonpath = .\nharness_local_target = starter:start\n"
    )
    project.write("starter.py", STARTER)
    project.exam_service()
    for number in range(4):
        project.write(f"cases/examgenerator/file{number}.yaml", _case_file(f"f{number}", 2))
    project.write("tests/test_plain.py", "def test_plain():\n    pass\n")
    return project


def _ran_on(lines: list[str]) -> dict[str, str]:
    """Node id -> the worker that ran it, from ``-v`` lines like ``[gw0] [ 10%] PASSED a.yaml::c::qa``."""
    return {line.split()[-1]: line.split("]", 1)[0].strip("[") for line in lines if line.startswith("[gw")}


def _spans(run_record: dict[str, Any]) -> Iterator[tuple[str, float, float]]:
    """(node id, start, end) of every delivery in a run.json."""
    for case in run_record["cases"]:
        for record in case["parts"].values():
            for run in record.get("runs", []):
                for turn in run.get("turns", []):
                    start = turn["outcome"]["started_at"]
                    yield record["nodeid"], start, start + turn["outcome"]["total_s"]


def test_pinning_is_deterministic_and_balanced() -> None:
    nodeids = [f"cases/s/f{f}.yaml::c{n}::{part}" for f in range(2) for n in range(5) for part in ("qa", "prod")]
    nodeids += [f"cases/s/service.yaml::negative-{n}::{part}" for n in range(20) for part in ("qa", "prod", "parity")]
    nodeids.append("tests/test_x.py::test_x")
    pins = pin_scopes(nodeids, 2)
    assert pins == pin_scopes(reversed(nodeids), 2)  # the collection's content, not its order
    assert pin_scope("tests/test_x.py::test_x") is None
    assert case_file_scope("tests/test_x.py::test_x") is None
    # Cases, not files: each file's five cases are shared by both workers.
    for f in range(2):
        slots = [pins[f"cases/s/f{f}.yaml::c{n}"] for n in range(5)]
        assert sorted(set(slots)) == [0, 1], slots
    # A spec's negative cases stay together (one worker draws them) and weigh a tenth: 6 items as 2 per case.
    assert pin_scope("cases/s/service.yaml::negative-3::qa") == "cases/s/service.yaml"
    spec_slot = pins["cases/s/service.yaml"]
    cases_on = [sum(1 for scope, slot in pins.items() if slot == s and "::" in scope) for s in (0, 1)]
    assert (cases_on[spec_slot], cases_on[1 - spec_slot]) == (4, 6), pins  # loads 6 + 4 * 2 and 6 * 2


def test_xdist_starts_the_services_once_and_runs_each_case_once_on_its_pinned_worker(pinned_suite: Project) -> None:
    result = pinned_suite.run("-n", "2", "-v", "--reference-model-latency-ms", "500")
    result.assert_outcomes(passed=9)
    assert len(list((pinned_suite.root / "starts").iterdir())) == 1, "one start, in the controller"
    ran_on = _ran_on(result.stdout.lines)
    case_items = {nodeid: worker for nodeid, worker in ran_on.items() if case_file_scope(nodeid)}
    assert len(case_items) == 8
    pins = pin_scopes(ran_on, 2)
    assert {nodeid: f"gw{pins[pin_scope(nodeid) or '']}" for nodeid in case_items} == case_items
    assert len(set(case_items.values())) == 2, "both workers got cases"
    # Every delivery once, and each worker had all of its cases in flight together: all four started before
    # the first of them ended (a file at a time, the second file would start only after the first ended).
    spans = list(_spans(json.loads((pinned_suite.root / "reports" / "run.json").read_text())))
    assert sorted(nodeid for nodeid, _, _ in spans) == sorted(case_items)
    for worker in ("gw0", "gw1"):
        mine = [(start, end) for nodeid, start, end in spans if case_items[nodeid] == worker]
        assert len(mine) == 4
        assert max(start for start, _ in mine) < min(end for _, end in mine), (worker, mine)


def test_a_run_without_case_files_starts_no_services(pinned_suite: Project) -> None:
    result = pinned_suite.run("-n", "2", "tests")
    result.assert_outcomes(passed=1)
    assert not (pinned_suite.root / "starts").exists()


def test_loadfile_keeps_working_with_the_shared_services(pinned_suite: Project) -> None:
    result = pinned_suite.run("-n", "2", "--dist", "loadfile")
    result.assert_outcomes(passed=9)
    assert len(list((pinned_suite.root / "starts").iterdir())) == 1


def _first_starts(run_json: Path) -> dict[str, float]:
    """Case id -> when its first delivery started."""
    starts: dict[str, float] = {}
    for nodeid, start, _ in _spans(json.loads(run_json.read_text())):
        case = nodeid.split("::")[1]
        starts[case] = min(start, starts.get(case, start))
    return starts


def test_a_process_starts_its_longest_cases_first_and_the_awaited_one_next(project: Project) -> None:
    project.exam_service()
    # In file order: a case answered with an error before any model runs, then a one-turn and a two-turn case.
    project.write(
        "cases/examgenerator/order.yaml",
        """\
        cases:
          - id: rejected
            endpoints: [qa]
            input: {course_title: Introduction to Biology, course_topic: Cell Structure, num_questions: 0}
            checks: [{status: 422}]
          - id: one-turn
            endpoints: [qa]
            input: {course_title: Introduction to Biology, course_topic: Cell Structure, num_questions: 1}
          - id: two-turns
            endpoints: [qa]
            input: {course_title: Introduction to Biology, course_topic: Cell Structure, num_questions: 1}
            turns: [{input: {num_questions: 1}}, {input: {num_questions: 2}}]
        """,
    )
    project.run("--harness-concurrency", "1", "--reference-model-latency-ms", "200").assert_outcomes(passed=3)
    starts = _first_starts(project.root / "reports" / "run.json")
    # The longest first; then the case the first item waits for, rather than leaving it behind all the others.
    assert sorted(starts, key=starts.__getitem__) == ["two-turns", "rejected", "one-turn"], starts


def test_the_first_item_waits_for_one_slot_not_for_the_whole_queue(project: Project) -> None:
    project.exam_service()
    slow = "\n".join(
        f"  - id: slow-{n}\n    endpoints: [qa]\n    input: {{course_title: Introduction to Biology,"
        f" course_topic: Cell Structure, num_questions: 1}}"
        for n in range(6)
    )
    project.write(
        "cases/examgenerator/queue.yaml",
        "cases:\n  - id: quick\n    endpoints: [qa]\n    input: {course_title: Introduction to Biology, "
        "course_topic: Cell Structure, num_questions: 0}\n    checks: [{status: 422}]\n" + slow + "\n",
    )
    result = project.run("-v", "--harness-concurrency", "1", "--reference-model-latency-ms", "300")
    result.assert_outcomes(passed=7)
    starts = _first_starts(project.root / "reports" / "run.json")
    assert sorted(starts, key=starts.__getitem__).index("quick") == 1, starts  # after the one run in flight


def test_drawing_negative_cases_holds_up_no_other_case(project: Project) -> None:
    from tests.support.pytester_project import EXAM_SPEC

    project.write("cases/examgenerator/service.yaml", EXAM_SPEC + "negative: {schema: openapi, count: 3}\n")
    # Collected after the spec's negative cases, whose items therefore run first.
    project.write(
        "cases/examgenerator/zz-slow.yaml",
        """\
        cases:
          - id: slow
            endpoints: [qa]
            input: {course_title: Introduction to Biology, course_topic: Cell Structure, num_questions: 1}
        """,
    )
    for extra in ((), ("-n", "1")):
        project.run("--reference-model-latency-ms", "300", *extra).assert_outcomes(passed=10)
        starts = _first_starts(project.root / "reports" / "run.json")
        negatives = [start for case, start in starts.items() if case.startswith("negative-")]
        assert len(negatives) == 3
        assert starts["slow"] < min(negatives), (extra, starts)  # in flight while the requests were drawn


def test_auto_runs_a_suite_that_fits_in_one_process_without_workers(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 6 cases against a deployed target fit in one process's window of 8: workers would only add their start-up.
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "2")  # what xdist would start on a 2-core machine
    project.exam_service()
    project.write("cases/examgenerator/few.yaml", _case_file("few", 6))
    # What xdist was told to start, as its own options say once -n auto is resolved (before any worker starts).
    project.write(
        "conftest.py",
        "def pytest_report_header(config):\n"
        "    return f'distribution: {config.option.dist}, {len(config.option.tx or [])} workers'\n",
    )
    args = ("-n", "auto", "--collect-only", "-p", "no:cacheprovider", "--base-url", "http://127.0.0.1:9")
    result = project.pytester.runpytest("cases", *args)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "qa-harness: -n auto runs one process, not 2 workers: about 6 cases*",
            "distribution: no, 0 workers",
            "collected 6 items",
        ]
    )
    # Python tests beside the cases: their cost is unknown, so xdist's count stands.
    project.write("tests/test_plain.py", "def test_plain():\n    pass\n")
    result = project.pytester.runpytest(*args)
    result.stdout.fnmatch_lines(["distribution: load, 2 workers"])
    assert "-n auto runs" not in result.stdout.str()
