"""Reports of real runs against the in-process reference services: every output agrees with pytest.

Key runs are done twice, in one process and with ``-n 2``, because xdist workers write allure results
themselves while the controller merges the records.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.pytester_project import Project


CASES = """\
defaults:
  checks: [exam_format, question_count]
  parity: structural
cases:
  - id: cells-2
    input: {course_title: Introduction to Biology, course_topic: Cell Structure, num_questions: 2}
  - id: cells-3
    input: {course_title: Introduction to Biology, course_topic: Cell Structure, num_questions: 3}
"""
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def exam_project(project: Project) -> pytest.Pytester:
    project.exam_service()
    project.write("cases/examgenerator/bio.yaml", CASES)
    return project.pytester


def allure_results(report_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in (report_dir / "allure-results").glob("*-result.json")]


def attachment_names(result: dict[str, Any]) -> set[str]:
    names = {a["name"] for a in result.get("attachments", [])}
    steps = list(result.get("steps", []))
    while steps:
        step = steps.pop()
        names |= {a["name"] for a in step.get("attachments", [])}
        steps += step.get("steps", [])
    return names


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_every_output_agrees_with_pytest(exam_project: pytest.Pytester, workers: list[str]) -> None:
    stale = exam_project.path / "reports" / "allure-results" / "stale-result.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    # A subprocess: allure-python has one process-wide listener registry, so in-process runs skip allure.
    result = exam_project.runpytest_subprocess("--reference-faults", "prod_drops_choices", *workers)
    result.assert_outcomes(passed=2, failed=4)
    reports = exam_project.path / "reports"
    assert not stale.exists(), "stale allure results are cleared once at the start"

    run = json.loads((reports / "run.json").read_text())
    assert run["totals"] == {"passed": 2, "failed": 4, "error": 0, "skipped": 0, "xfailed": 0, "xpassed": 0}
    outcomes = {(c["case_id"], part): e["outcome"] for c in run["cases"] for part, e in c["parts"].items()}
    assert outcomes == {
        (case, part): "passed" if part == "qa" else "failed"
        for case in ("cells-2", "cells-3")
        for part in ("qa", "prod", "parity")
    }

    suite = ET.parse(reports / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "4", "0")

    summary = (reports / "summary.md").read_text()
    assert summary.startswith("## ❌ qa-harness: 4 failed, 2 passed\n")
    assert "| examgenerator | parity | - | 0% (0/2) |" in summary
    assert "| `cases/examgenerator/bio.yaml::cells-3` | parity | failed | structural parity failed:" in summary

    results = allure_results(reports)
    assert Counter(r["status"] for r in results) == {"passed": 2, "failed": 4}
    parity = next(r for r in results if r["name"] == "cells-3 · parity")
    labels = {(label["name"], label["value"]) for label in parity["labels"]}
    assert {("service", "examgenerator"), ("endpoint", "parity"), ("check", "exam_format")} <= labels
    assert {"QA output", "prod output", "diff"} <= attachment_names(parity)
    prod = next(r for r in results if r["name"] == "cells-3 · prod")
    assert {"prod request", "prod curl", "prod callback deliveries", "prod output", "prod timings"} <= (
        attachment_names(prod)
    )
    assert any(s["name"].startswith("check exam_format: failed") and s["status"] == "failed" for s in prod["steps"])

    result.stdout.fnmatch_lines(
        [
            "*= qa-harness summary =*",
            "service*endpoint*pass*parity*p50*p95*",
            "examgenerator*prod (callback)*0% (0/2)*",
            "examgenerator*parity*0% (0/2)*",
            "slowest *",
        ]
    )


def test_user_given_alluredir_and_junitxml_win(exam_project: pytest.Pytester) -> None:
    result = exam_project.runpytest_subprocess("-k", "cells-2", "--alluredir", "mine", "--junitxml", "mine.xml")
    result.assert_outcomes(passed=3)
    assert len(list((exam_project.path / "mine").glob("*-result.json"))) == 3
    assert (exam_project.path / "mine.xml").is_file()
    assert not (exam_project.path / "reports" / "junit.xml").exists()
    assert (exam_project.path / "reports" / "run.json").is_file()


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_baseline_catches_a_regression(exam_project: pytest.Pytester, workers: list[str]) -> None:
    saved = exam_project.runpytest("--harness-save-baseline", "base.json", *workers)
    saved.assert_outcomes(passed=6)
    assert json.loads((exam_project.path / "base.json").read_text())["totals"]["passed"] == 6

    # Latency is someone else's test: a loaded machine must not add a latency regression here.
    latency = ["--harness-latency-tolerance", "100000%"]
    broken = exam_project.runpytest(
        "--harness-baseline", "base.json", "--reference-faults", "prod_drops_choices", *latency
    )
    assert broken.ret == 1
    broken.stdout.fnmatch_lines(
        [
            "*qa-harness: 4 regression(s) against the baseline*",
            "failed: cases/examgenerator/bio.yaml::cells-2 [[]prod[]]: passed in the baseline, now exam_format:*",
            "parity: cases/examgenerator/bio.yaml::cells-2 [[]parity[]]: passed in the baseline, now structural*",
            "failed: cases/examgenerator/bio.yaml::cells-3 [[]prod[]]*",
            "parity: cases/examgenerator/bio.yaml::cells-3 [[]parity[]]*",
        ]
    )
    assert "Regressions against the baseline (4)" in (exam_project.path / "reports" / "summary.md").read_text()


def test_baseline_latency_regression_fails_a_green_run(exam_project: pytest.Pytester) -> None:
    exam_project.runpytest("-k", "cells-2", "--harness-save-baseline", "base.json").assert_outcomes(passed=3)
    # A wide tolerance (500%) and a large slowdown (1.5 s): a loaded CI machine's noise is neither.
    slow = exam_project.runpytest(
        "-k", "cells-2", "--harness-baseline", "base.json", "--reference-model-latency-ms", "1500",
        "--harness-latency-tolerance", "500%",
    )  # fmt: skip
    slow.assert_outcomes(passed=3)
    assert slow.ret == 1
    clean = exam_project.runpytest(
        "-k", "cells-2", "--harness-baseline", "base.json", "--harness-latency-tolerance", "500%"
    )
    assert clean.ret == 0
    clean.stdout.fnmatch_lines(["no regressions against the baseline base.json"])
    slow.stdout.fnmatch_lines(["latency: cases/examgenerator/bio.yaml::cells-2 [[]qa[]]: median latency *"])
    tolerant = exam_project.runpytest(
        "-k", "cells-2", "--harness-baseline", "base.json", "--reference-model-latency-ms", "1500",
        "--harness-latency-tolerance", "100000%",
    )  # fmt: skip
    assert tolerant.ret == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--harness-baseline", "nope.json"], "*--harness-baseline nope.json: no such file; save one with*"),
        (["--harness-latency-tolerance", "fast"], "*--harness-latency-tolerance must be*e.g.*50%*"),
    ],
)
def test_bad_baseline_options_are_usage_errors(exam_project: pytest.Pytester, args: list[str], message: str) -> None:
    result = exam_project.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str()


def test_secrets_never_reach_reports_or_output(exam_project: pytest.Pytester) -> None:
    from reference_services.inprocess import start_stack

    token = "known-qa-token-4f2a9c81d7"
    secret = "whsec_a25vd24tY2FsbGJhY2stc2VjcmV0LWZvci10ZXN0cyE="
    stack = start_stack(qa_token=token, callback_secret=secret)
    try:
        args = ["--base-url", stack.base_url, "--harness-qa-token", token, "--harness-callback-secret", secret]
        result = exam_project.runpytest_subprocess(*args, "-n", "2", "-rA", "-v")
    finally:
        stack.stop()
    result.assert_outcomes(passed=6)
    reports = exam_project.path / "reports"
    files = [p for p in reports.rglob("*") if p.is_file()]
    assert len(files) > 20
    qa_headers = [o["request"]["headers"] for o in _requests(reports) if o["endpoint"] == "qa"]
    assert qa_headers
    assert all(h["Authorization"] == "Bearer ***" for h in qa_headers)
    output = result.stdout.str() + result.stderr.str()
    for leak in (token, secret, secret.removeprefix("whsec_")):
        assert leak not in output
        for path in files:
            assert leak not in path.read_text(encoding="utf-8", errors="replace"), f"{leak} in {path}"
    # The masked request is still there, so the test looks where a leak would be.
    assert any("Bearer ***" in p.read_text() for p in (reports / "allure-results").glob("*-attachment.json"))


def _requests(reports: Path) -> list[dict[str, Any]]:
    run = json.loads((reports / "run.json").read_text())
    return [
        turn["outcome"]
        for case in run["cases"]
        for entry in case["parts"].values()
        for r in entry.get("runs", [])
        for turn in r.get("turns", [])
    ]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("npx") is None, reason="Node.js (npx) is not installed: the HTML report needs it")
def test_html_report_renders_with_the_counts(exam_project: pytest.Pytester) -> None:
    run = exam_project.runpytest_subprocess("--reference-faults", "prod_drops_choices")
    run.assert_outcomes(passed=2, failed=4)
    out = exam_project.path / "html"
    script = ROOT / "scripts" / "render-html-report.sh"
    done = subprocess.run(
        ["bash", str(script), str(exam_project.path / "reports"), str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "npm_config_update_notifier": "false"},
        check=False,
    )
    if done.returncode != 0 and "npm" in done.stderr and ("E404" in done.stderr or "ENOTFOUND" in done.stderr):
        pytest.skip(f"the Allure 3 CLI could not be installed from npm: {done.stderr[-300:]}")
    assert done.returncode == 0, done.stderr
    assert (out / "index.html").is_file()
    stats = json.loads((out / "summary.json").read_text())["stats"]
    assert stats == {"total": 6, "passed": 2, "failed": 4}
