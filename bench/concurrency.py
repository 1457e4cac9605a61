"""How much overlapping network waits buys: wall time of N cases at a given model latency.

Runs the same generated case suite three ways against the in-process reference services:
one case at a time (``--harness-concurrency 1``), concurrently in one process, and with
``-n auto`` on top. Prints wall times and ratios against the one-at-a-time baseline of the same run.

    python bench/concurrency.py --cases 24 --latency-ms 300
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = """\
service: studycompanion
qa: {path: /studycompanion/chat/qa, delivery: sync, auth: qa_token,
     output: {text: /reply, sources: /sources, metadata: {model_version: /model_version}}}
prod: {path: /studycompanion/chat/stream, delivery: sse,
       output: {sources: /sources, metadata: {model_version: /model_version}}}
conversation: {id_field: conversation_id}
"""

EXAM_SPEC = """\
service: examgenerator
qa: {path: /examgenerator/create/qa, delivery: sync, auth: qa_token,
     output: {text: /text, metadata: {model_version: /model_version}}}
prod: {path: /examgenerator/create, delivery: callback,
       output: {text: /text, metadata: {model_version: /model_version}}}
"""


def write_suite(root: Path, cases: int) -> None:
    """Half chat cases (SSE vs sync), half exam cases (callback vs sync)."""
    (root / "cases" / "chat").mkdir(parents=True)
    (root / "cases" / "exam").mkdir(parents=True)
    (root / "cases" / "chat" / "service.yaml").write_text(SPEC)
    (root / "cases" / "exam" / "service.yaml").write_text(EXAM_SPEC)
    chat = ["cases:"]
    exam = ["cases:"]
    for n in range(cases):
        if n % 2:
            chat.append(
                f"  - id: chat-{n}\n    input: {{user_id: b{n}, course: Macroeconomics 201, "
                f'conversation_id: x, message: "What is the difference between nominal and real GDP?"}}\n'
                "    checks: [retrieval_miss]\n    parity: exact"
            )
        else:
            exam.append(
                f"  - id: exam-{n}\n    input: {{course_title: Introduction to Biology, "
                "course_topic: Cell Structure, num_questions: 3}\n    checks: [exam_format]"
            )
    (root / "cases" / "chat" / "chat.yaml").write_text("\n".join(chat) + "\n")
    (root / "cases" / "exam" / "exam.yaml").write_text("\n".join(exam) + "\n")
    (root / "pytest.ini").write_text("[pytest]\n")


def run(root: Path, latency_ms: float, *extra: str) -> tuple[float, str]:
    """Wall time of one pytest run and its closing line."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--reference-model-latency-ms",
        str(latency_ms),
        "--harness-report-dir",
        str(root / "reports"),
        *extra,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=1800, check=False)
    elapsed = time.perf_counter() - started
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    if done.returncode != 0:
        sys.exit(f"run {' '.join(extra)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return elapsed, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=24)
    parser.add_argument("--latency-ms", type=float, default=300.0, help="model time to first token")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_suite(root, args.cases)
        print(f"{args.cases} cases (x3 items each), model latency {args.latency_ms:.0f} ms, {os.cpu_count()} CPUs")
        concurrent = ["--harness-concurrency", str(args.concurrency)]
        rows = [
            ("one at a time", ["--harness-concurrency", "1"]),
            (f"concurrent ({args.concurrency})", concurrent),
            (f"-n auto + concurrent ({args.concurrency})", ["-n", "auto", *concurrent]),
        ]
        baseline = None
        for label, extra in rows:
            elapsed, last = run(root, args.latency_ms, *extra)
            baseline = baseline or elapsed
            print(f"  {label:<34} {elapsed:7.2f} s   x{baseline / elapsed:5.2f} vs one-at-a-time   [{last}]")


if __name__ == "__main__":
    main()
