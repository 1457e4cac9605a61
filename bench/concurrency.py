"""How much overlapping network waits buys: wall time of a case suite at given model latencies.

Runs the same suite three ways against the in-process reference services: one case at a time
(``--harness-concurrency 1``), concurrently in one process (``--concurrency``, default the harness's 8),
and with ``-n auto`` on top. Prints wall times of the whole ``pytest`` process and ratios against the
one-at-a-time baseline and the one-process run of the same invocation.

    python bench/concurrency.py --suite shipped --latency-ms 0 200 1000   # the repo's cases/
    python bench/concurrency.py --suite shipped --with-datasets --latency-ms 0 200   # and its 720 dataset items
    python bench/concurrency.py --cases 24 --latency-ms 300               # a generated suite
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from _processes import run_pytest
from _specs import CHAT_SPEC, EXAM_SPEC  # bench/ is on sys.path: these scripts run as files


def write_suite(root: Path, cases: int) -> None:
    """Half chat cases (SSE vs sync), half exam cases (callback vs sync)."""
    (root / "cases" / "chat").mkdir(parents=True)
    (root / "cases" / "exam").mkdir(parents=True)
    (root / "cases" / "chat" / "service.yaml").write_text(CHAT_SPEC)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=["generated", "shipped"], default="generated")
    parser.add_argument("--cases", type=int, default=24, help="generated suite: how many cases")
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[300.0], help="model time to first token")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--with-datasets", action="store_true", help="shipped suite: also its dataset case files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.suite == "shipped":
            root, paths = Path(__file__).resolve().parent.parent, ["cases"]
            what = "the shipped suite (pytest cases)"
            if args.with_datasets:
                paths.append("--with-datasets")
                what = "the shipped suite with its datasets (pytest cases --with-datasets)"
        else:
            root, paths = Path(tmp), []
            write_suite(root, args.cases)
            what = f"{args.cases} generated cases (x3 items each)"
        concurrent = ["--harness-concurrency", str(args.concurrency)]
        rows = [
            ("one at a time", ["--harness-concurrency", "1"]),
            (f"one process, concurrency {args.concurrency}", concurrent),
            (f"-n auto, concurrency {args.concurrency}", ["-n", "auto", *concurrent]),
        ]
        for latency in args.latency_ms:
            print(f"{what}, model latency {latency:.0f} ms, {os.cpu_count()} CPUs")
            times: list[float] = []
            for label, extra in rows:
                elapsed, last = run_pytest(root, Path(tmp, "reports"), latency, *paths, *extra)
                times.append(elapsed)
                versus = f"   x{times[1] / elapsed:5.2f} vs one process" if len(times) > 2 else ""
                ratio = times[0] / elapsed
                print(f"  {label:<28} {elapsed:7.2f} s   x{ratio:5.2f} vs one at a time{versus}   [{last}]")


if __name__ == "__main__":
    main()
