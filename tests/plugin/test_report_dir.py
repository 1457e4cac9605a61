"""One run per report folder, and reports written when a run is terminated (SIGTERM), as on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.pytester_project import Project

SLOW_CASES = """\
cases:
  - id: slow
    input: {course_title: Biology, course_topic: Cells, num_questions: 2}
    checks: [exam_format]
"""


def start_run(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_lock(root: Path, run: subprocess.Popen[str], folder: str = "reports") -> None:
    """Until the run holds its report folder (its pid is in the lock file); bounded."""
    lock = root / folder / ".harness.lock"
    deadline = time.monotonic() + 60
    while not (lock.is_file() and lock.read_text().strip() == str(run.pid)):
        assert run.poll() is None, run.communicate()[0]
        assert time.monotonic() < deadline, "the run never took its report folder"
        time.sleep(0.05)


@pytest.fixture
def slow_project(project: Project) -> Project:
    project.exam_service()
    project.write("cases/examgenerator/slow.yaml", SLOW_CASES)
    return project


def test_a_second_run_on_the_same_report_folder_is_stopped_and_the_first_is_untouched(slow_project: Project) -> None:
    root = slow_project.root
    # Slow enough that the first run still holds the folder while the second starts, even on a loaded machine.
    first = start_run(root, "--reference-model-latency-ms", "10000")
    try:
        wait_for_lock(root, first)
        second = slow_project.run()
        assert second.ret == pytest.ExitCode.USAGE_ERROR
        second.stderr.fnmatch_lines(
            [f"ERROR: another qa-harness run (pid {first.pid}) is writing reports to *reports; wait for it, or *"]
        )
        output, _ = first.communicate(timeout=120)
    finally:
        first.kill()
    assert first.returncode == 0, output
    results = list((root / "reports" / "allure-results").glob("*-result.json"))
    assert len(results) == 3  # the first run's results survived the second run's start
    # Released at the end: the next run goes ahead.
    slow_project.run().assert_outcomes(passed=3)


def test_sigterm_writes_the_reports_like_ctrl_c(slow_project: Project) -> None:
    root = slow_project.root
    run = start_run(root, "--reference-model-latency-ms", "20000", "--harness-timeout", "60")
    try:
        wait_for_lock(root, run)
        time.sleep(1.0)  # in the middle of the slow deliveries
        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == pytest.ExitCode.INTERRUPTED, output
    summary = (root / "reports" / "summary.md").read_text()
    assert summary.startswith("## ❌ qa-harness:")
    assert "(pytest exit status 2: interrupted)" in summary
    assert json.loads((root / "reports" / "run.json").read_text())["exit_status"]["name"] == "interrupted"
    assert (root / "reports" / "junit.xml").is_file()
