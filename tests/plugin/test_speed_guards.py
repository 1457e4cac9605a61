"""What keeps ``-n auto`` fast, checked by what happened rather than by timing the run.

Under xdist the controller starts the in-process services once for all workers, pins every case file to a
worker before the first item, and each worker keeps all of its files' cases in flight from its first item;
no case runs twice and every item of a file runs on the worker it is pinned to.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness._xdist import case_file_scope, pin_case_files
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
    nodeids = [f"cases/s/f{f}.yaml::c{n}::{part}" for f in range(5) for n in range(f + 1) for part in ("qa", "prod")]
    nodeids.append("tests/test_x.py::test_x")
    pins = pin_case_files(nodeids, 2)
    assert pins == pin_case_files(reversed(nodeids), 2)  # the collection's content, not its order
    assert set(pins) == {f"cases/s/f{f}.yaml" for f in range(5)}
    load = [sum(2 * (int(path[-6]) + 1) for path, slot in pins.items() if slot == s) for s in (0, 1)]
    assert sorted(load) == [14, 16]  # 5 files of 2..10 items, 30 in all: as even as whole files allow
    assert case_file_scope("tests/test_x.py::test_x") is None


def test_xdist_starts_the_services_once_and_runs_each_case_once_on_its_pinned_worker(pinned_suite: Project) -> None:
    result = pinned_suite.run("-n", "2", "-v", "--reference-model-latency-ms", "500")
    result.assert_outcomes(passed=9)
    assert len(list((pinned_suite.root / "starts").iterdir())) == 1, "one start, in the controller"
    ran_on = _ran_on(result.stdout.lines)
    case_items = {nodeid: worker for nodeid, worker in ran_on.items() if case_file_scope(nodeid)}
    assert len(case_items) == 8
    pins = pin_case_files(ran_on, 2)
    assert {nodeid: f"gw{pins[case_file_scope(nodeid) or '']}" for nodeid in case_items} == case_items
    assert len(set(case_items.values())) == 2, "both workers got case files"
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
