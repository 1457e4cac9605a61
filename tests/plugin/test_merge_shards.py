"""A suite split across machines with pytest-split, merged with ``harness merge``, reports like one run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.__main__ import main
from tests.support.pytester_project import Project

EXAMS = "cases:\n" + "\n".join(
    f"  - id: exam-{n}\n    input: {{course_title: Introduction to Biology, course_topic: Cell Structure,"
    f" num_questions: {n + 1}}}\n    checks: [exam_format, choices_present]"
    for n in range(3)
)
CHATS = "cases:\n" + "\n".join(
    f"  - id: chat-{n}\n    input: {{user_id: u{n}, course: Macroeconomics 201, conversation_id: x,"
    f' message: "What is the difference between nominal and real GDP?"}}\n    parity: exact'
    for n in range(2)
)


def _parts(run: dict[str, Any]) -> dict[str, str]:
    return {entry["nodeid"]: entry["outcome"] for case in run["cases"] for entry in case["parts"].values()}


@pytest.fixture
def split_suite(project: Project) -> Project:
    project.exam_service()
    project.chat_service()
    project.write("cases/examgenerator/exams.yaml", EXAMS)
    project.write("cases/studycompanion/chats.yaml", CHATS)
    project.write("tests/test_plain.py", "def test_one():\n    pass\n\ndef test_two():\n    pass\n")
    return project


def test_three_shards_merged_count_like_one_run(split_suite: Project, capsys: pytest.CaptureFixture[str]) -> None:
    fault = ("--reference-faults", "prod_drops_choices")  # some failures, so more than one count is compared
    split_suite.run(*fault, "--harness-report-dir", "whole")
    shard_dirs = []
    for group in (1, 2, 3):
        shard = split_suite.root / f"shard-{group}"
        result = split_suite.run(*fault, "--splits", "3", "--group", str(group), "--harness-report-dir", str(shard))
        assert result.ret in (0, 1), result.stdout.str()
        shard_dirs.append(shard)
    merged_dir = split_suite.root / "merged"
    assert main(["merge", "-o", str(merged_dir), *map(str, shard_dirs)]) == 0  # a part in two shards would fail

    whole = json.loads((split_suite.root / "whole" / "run.json").read_text())
    merged = json.loads((merged_dir / "run.json").read_text())
    assert merged["totals"] == whole["totals"]
    assert whole["totals"]["failed"] > 0
    assert whole["totals"]["passed"] > 0
    assert _parts(merged) == _parts(whole)
    counts = ("items", "passed", "failed", "error", "skipped", "pass_rate")
    assert [{k: e[k] for k in ("service", "endpoint", *counts)} for e in merged["endpoints"]] == [
        {k: e[k] for k in ("service", "endpoint", *counts)} for e in whole["endpoints"]
    ]
    for shard in shard_dirs:  # each case whole on one shard: its parts never split
        for case in json.loads((shard / "run.json").read_text())["cases"]:
            assert len(case["parts"]) == 3, (shard.name, case["case"])

    junit = ET.parse(merged_dir / "junit.xml").getroot()
    whole_junit = ET.parse(split_suite.root / "whole" / "junit.xml").getroot().find("testsuite")
    assert whole_junit is not None
    for key in ("tests", "failures", "errors", "skipped"):
        assert junit.get(key) == whole_junit.get(key), key
    summary = (merged_dir / "summary.md").read_text()
    assert summary.startswith(f"## ❌ qa-harness: {whole['totals']['failed']} failed")
    allure = list((merged_dir / "allure-results").glob("*-result.json"))
    assert len(allure) == sum(len(list((s / "allure-results").glob("*-result.json"))) for s in shard_dirs)
    assert len(allure) == int(whole_junit.get("tests", "0"))
    assert "merged 3 shard(s)" in capsys.readouterr().out


def test_merging_overlapping_shards_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = {"format": "qa-harness-run/1", "totals": {"passed": 1}, "cases": [
        {"case": "a.yaml::c", "service": "s", "parts": {"qa": {"nodeid": "a.yaml::c::qa", "outcome": "passed"}}}
    ]}  # fmt: skip
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(json.dumps(run))
    assert main(["merge", "-o", str(tmp_path / "out"), str(tmp_path / "one"), str(tmp_path / "two")]) == 2
    assert "a.yaml::c::qa is in more than one shard" in capsys.readouterr().err
