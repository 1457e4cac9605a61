"""A suite against its slowest case: how close ``pytest cases -n auto`` comes to the physical limit.

A suite cannot finish before its slowest case does. For each model latency this runs the shipped suite with
``-n auto`` and in one process, finds the slowest cases in the run record (``run.json``: the longest span from a
case's first delivery to the end of its last), runs each of the three slowest alone in one process (the same
start-up: a whole ``pytest`` process with its in-process services), and the cases graded by ``llm_judge`` too (the
judge's own model call, after the deliveries, is not in the record's spans), and prints the suite's wall time
against the slowest of them. Ratios are taken within one invocation; ``--repeat`` runs it all again and prints
the ranges.

    python bench/slowest.py --latency-ms 1000 200 0 --repeat 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from _processes import run_pytest  # bench/ is on sys.path: these scripts run as files

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = 3


def slowest_cases(record: dict[str, object], count: int) -> list[tuple[str, float]]:
    """The ``count`` cases (node ids ``file::case``) with the longest span of deliveries in a run record, and the
    judged ones."""
    spans: list[tuple[str, float]] = []
    judged: list[tuple[str, float]] = []
    for case in record["cases"]:  # type: ignore[attr-defined]
        turns = [
            turn["outcome"]
            for part in case["parts"].values()
            for run in part.get("runs", [])
            for turn in run.get("turns", [])
            if turn.get("outcome", {}).get("started_at") is not None
        ]
        if turns:
            start = min(t["started_at"] for t in turns)
            end = max(t["started_at"] + t["total_s"] for t in turns)
            spans.append((case["case"], end - start))
            if any("llm_judge" in part.get("checks", []) for part in case["parts"].values()):
                judged.append(spans[-1])
    slowest = sorted(spans, key=lambda span: -span[1])[:count]
    return slowest + [case for case in judged if case not in slowest]


def measure(latency_ms: float, tmp: Path) -> tuple[float, float, float, str]:
    """(suite with -n auto, suite in one process, slowest case alone, its node id), all in seconds."""
    auto, auto_last = run_pytest(ROOT, tmp / "auto", latency_ms, "cases", "-n", "auto")
    one, one_last = run_pytest(ROOT, tmp / "one", latency_ms, "cases")
    record = json.loads((tmp / "auto" / "run.json").read_text(encoding="utf-8"))
    alone: list[tuple[float, str]] = []
    for nodeid, span in slowest_cases(record, CANDIDATES):
        took, _ = run_pytest(ROOT, tmp / "alone", latency_ms, nodeid)
        alone.append((took, nodeid))
        print(f"    alone: {nodeid}  {took:6.2f} s  (its deliveries spanned {span:.2f} s in the suite)")
    slowest, nodeid = max(alone)
    print(f"    -n auto: {auto:6.2f} s [{auto_last}]   one process: {one:6.2f} s [{one_last}]")
    return auto, one, slowest, nodeid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[1000.0, 200.0, 0.0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for latency in args.latency_ms:
        print(f"the shipped suite (pytest cases), model latency {latency:.0f} ms")
        versus_case: list[float] = []
        versus_one: list[float] = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                auto, one, slowest, nodeid = measure(latency, Path(tmp))
            versus_case.append(auto / slowest)
            versus_one.append(auto / one)
            print(
                f"  -n auto {auto:6.2f} s = x{auto / slowest:.2f} of its slowest case alone "
                f"({slowest:.2f} s, {nodeid}), x{auto / one:.2f} of one process ({one:.2f} s)   "
                f"(budget x1.50; one process x{one / slowest:.2f})"
            )
        if args.repeat > 1:
            print(
                f"  over {args.repeat} runs: -n auto x{min(versus_case):.2f}-x{max(versus_case):.2f} "
                "of the slowest case "
                f"(median x{statistics.median(versus_case):.2f}), x{min(versus_one):.2f}-x{max(versus_one):.2f} "
                "of one process"
            )


if __name__ == "__main__":
    main()
