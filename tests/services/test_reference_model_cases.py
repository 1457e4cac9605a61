"""The shipped cases/reference-model suite: the openai-chat preset against the embedded model, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _outcomes(run: dict[str, Any], case_id: str, part: str) -> list[dict[str, Any]]:
    case = next(c for c in run["cases"] if c["case_id"] == case_id)
    return [turn["outcome"] for turn in case["parts"][part]["runs"][0]["turns"]]


def test_reference_model_suite_records_usage_finish_reason_and_own_histories(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "cases/reference-model",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--harness-report-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    run = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))

    for part in ("qa", "prod"):
        (outcome,) = _outcomes(run, "exam-request", part)
        assert outcome["metadata"]["finish_reason"] == "stop"
        assert outcome["metadata"]["usage"]["total_tokens"] > 0
        assert outcome["request"]["body"]["stream"] is (part == "prod")
    (prod,) = _outcomes(run, "exam-request", "prod")
    assert prod["delivery"] == "sse"
    assert prod["request"]["body"]["stream_options"] == {"include_usage": True}

    for part in ("qa", "prod"):
        first, second = _outcomes(run, "grounded-answer-follow-up", part)
        sent = second["request"]["body"]["messages"]
        assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
        assert sent[2]["content"] == first["text"]  # this endpoint's own reply, sent back
