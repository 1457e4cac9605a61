"""Run the case suite in-process against reference-service faults and collect which items fail, and why.

``run_suite`` calls ``pytest.main`` on ``cases/`` with a small plugin object that keeps every item's reports.
Each failing item gets *labels* derived from the plugin's ``report.harness_record``:

- qa / prod items: the names of failed checks and the kinds of delivery problems (``callback_duplicate``);
- parity items: ``parity:<level>`` for each failed parity report, ``blocked`` when parity could not be
  judged, and the names of failed pair checks (``model_version_equal``);
- ``error`` for an item that errored (e.g. the service was unreachable) instead of failing a check.

The fault matrix test compares these labels with ``fault_matrix.yaml``; ``regenerate.py --record`` writes them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = REPO_ROOT / "cases"
ERROR = "error"
BLOCKED = "blocked"

# Settings the harness also reads from the environment: a developer's shell must not change the matrix.
_ISOLATED_ENV = ("REFERENCE_FAULTS", "PYTEST_BASE_URL", "PYTEST_ADDOPTS", "HARNESS_QA_TOKEN")


@dataclass
class SuiteRun:
    """What one in-process run of the case suite produced."""

    exit_code: int
    failures: dict[str, list[str]]
    """Failing (or erroring) item id -> sorted labels, in the order the items ran."""
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Item id -> the harness record of its call phase (every item that ran)."""
    passed: list[str] = field(default_factory=list)


class ReportCollector:
    """A pytest plugin object: keeps the labels and records of the items of one session."""

    def __init__(self) -> None:
        self.labels: dict[str, set[str]] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.passed: list[str] = []
        self.collection_errors: list[str] = []

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = getattr(report, "harness_record", None)
        if record is not None:
            self.records[report.nodeid] = record
        if report.when == "call" and report.passed:
            self.passed.append(report.nodeid)
        if not report.failed:
            return
        labels = self.labels.setdefault(report.nodeid, set())
        if report.when != "call" or record is None:
            labels.add(ERROR)  # setup/teardown error, or a crash before the record existed
        else:
            labels.update(record_labels(record))


def record_labels(record: dict[str, Any]) -> set[str]:
    """The failure labels of one item's harness record, over all its repeats."""
    labels: set[str] = set()
    for run in record["runs"]:
        if record["part"] == "parity":
            if run.get("blocked"):
                labels.add(BLOCKED)
            labels.update(f"parity:{r['level']}" for r in run["reports"] if not r["passed"])
        else:
            if run.get("error"):
                labels.add(ERROR)
            for turn in run["turns"]:
                labels.update(p["kind"] for p in turn["outcome"]["problems"])
        checks = run["checks"] if record["part"] == "parity" else [c for t in run["turns"] for c in t["checks"]]
        labels.update(c["name"] for c in checks if not c["passed"])
    return labels


@contextlib.contextmanager
def _isolated_environment() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in _ISOLATED_ENV if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def run_suite(
    faults: Sequence[str],
    report_dir: Path,
    *,
    repeat: int = 1,
    timeout_s: float = 3,
    extra_args: Sequence[str] = (),
) -> SuiteRun:
    """Run ``cases/`` in this process against the in-process services started with ``faults``.

    ``timeout_s`` bounds each delivery (``callback_never`` waits that long). It stays clear of uvicorn's 5 s
    keep-alive: an idle gap of about 5 s races pooled connections being closed by the services.

    Item ids are relative to the repository, whatever the current directory. A collection error or a usage
    error raises ``RuntimeError``: the matrix is only meaningful when the whole suite ran.
    """
    collector = ReportCollector()
    args = [
        str(CASES_DIR),
        f"--rootdir={REPO_ROOT}",
        f"--config-file={REPO_ROOT / 'pyproject.toml'}",
        "-p",
        "no:cacheprovider",
        "-qq",
        "--tb=no",
        "--assert=plain",  # harness and reference_services are imported already: nothing to rewrite
        f"--harness-timeout={timeout_s:g}",
        f"--harness-report-dir={report_dir}",
        f"--harness-repeat={repeat}",
    ]
    if faults:
        args.append(f"--reference-faults={','.join(faults)}")
    args += extra_args
    with _isolated_environment():
        exit_code = int(pytest.main(args, plugins=[collector]))
    if collector.collection_errors or exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        details = "\n".join(collector.collection_errors) or "see the output above"
        raise RuntimeError(f"the case suite did not run (pytest exit code {exit_code}):\n{details}")
    return SuiteRun(
        exit_code=exit_code,
        failures={nodeid: sorted(labels) for nodeid, labels in collector.labels.items()},
        records=collector.records,
        passed=collector.passed,
    )
