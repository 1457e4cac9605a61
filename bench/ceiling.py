"""One process's ceiling: deliveries in flight, throughput and the harness's own CPU time per case.

Starts the reference services in a process of their own (``python -m reference_services``, model time to first
token ``--latency-ms``) and runs one pytest process against them with ``--base-url`` and
``--harness-concurrency`` cases in flight: half chat cases (QA sync + prod SSE), half exam cases (QA sync +
prod signed callback), two deliveries per case. From run.json it reads the deliveries actually in flight at
once (from their start times and durations), delivery problems and callbacks, and from the pytest process's
rusage its CPU time. Baselines of the same invocation: the ideal throughput (in flight / latency) and the CPU
time of collecting the same suite (``--collect-only``), which the per-case figure leaves out.

    python bench/ceiling.py --cases 512 --concurrency 128 --latency-ms 2000   # 256 deliveries in flight
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _processes import free_port, wait_up  # bench/ is on sys.path: these scripts run as files
from _specs import CHAT_SPEC, EXAM_SPEC


def write_suite(root: Path, cases: int) -> None:
    for folder, spec in (("chat", CHAT_SPEC), ("exam", EXAM_SPEC)):
        (root / "cases" / folder).mkdir(parents=True)
        (root / "cases" / folder / "service.yaml").write_text(spec)
    per_file = 32
    for n in range(0, cases, per_file):
        chat, exam = ["cases:"], ["cases:"]
        for m in range(n, min(cases, n + per_file)):
            if m % 2:
                chat.append(
                    f"  - id: chat-{m}\n    input: {{user_id: b{m}, course: Macroeconomics 201, conversation_id: x, "
                    'message: "What is the difference between nominal and real GDP?"}\n    checks: [retrieval_miss]'
                )
            else:
                exam.append(
                    f"  - id: exam-{m}\n    input: {{course_title: Introduction to Biology, "
                    "course_topic: Cell Structure, num_questions: 3}\n    checks: [exam_format]"
                )
        (root / "cases" / "chat" / f"chat{n}.yaml").write_text("\n".join(chat) + "\n")
        (root / "cases" / "exam" / f"exam{n}.yaml").write_text("\n".join(exam) + "\n")
    (root / "pytest.ini").write_text("[pytest]\n")


def cpu_of(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall and CPU (user + sys) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done


def max_in_flight(run: dict[str, Any]) -> int:
    events: list[tuple[float, int]] = []
    for case in run["cases"]:
        for entry in case["parts"].values():
            for run_ in entry.get("runs", []):
                for turn in run_.get("turns", []):
                    outcome = turn["outcome"]
                    if outcome.get("started_at") is not None and outcome.get("total_s") is not None:
                        events += [(outcome["started_at"], 1), (outcome["started_at"] + outcome["total_s"], -1)]
    level = peak = 0
    for _, step in sorted(events):
        level += step
        peak = max(peak, level)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=512)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--latency-ms", type=float, default=2000.0)
    args = parser.parse_args()
    token, secret = secrets.token_urlsafe(16), "whsec_" + __import__("base64").b64encode(os.urandom(24)).decode()
    port = free_port()
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(repo)}
    services = subprocess.Popen(
        [sys.executable, "-m", "reference_services", "--port", str(port), "--qa-token", token,
         "--callback-secret", secret, "--model-latency-ms", str(args.latency_ms)],
        cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_up(f"http://127.0.0.1:{port}/health", services)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_suite(root, args.cases)
            base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
            target = ["--base-url", f"http://127.0.0.1:{port}", "--harness-qa-token", token,
                      "--harness-callback-secret", secret, f"--harness-report-dir={root / 'reports'}"]  # fmt: skip
            _, collect_cpu, _ = cpu_of([*base, "--collect-only", *target], root, env)
            wall, cpu, done = cpu_of([*base, *target, "--harness-concurrency", str(args.concurrency)], root, env)
            last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
            run = json.loads((root / "reports" / "run.json").read_text())
    finally:
        services.terminate()
        services.wait(timeout=30)
    problems: dict[str, int] = {}
    for endpoint in run["endpoints"]:
        for case in run["cases"]:
            for part, entry in case["parts"].items():
                if part == endpoint["endpoint"] and case["service"] == endpoint["service"]:
                    for kind, count in entry.get("problems", {}).items():
                        problems[kind] = problems.get(kind, 0) + count
    callbacks = sum(e["items"] for e in run["endpoints"] if e.get("delivery") == "callback")
    peak = max_in_flight(run)
    ideal = 2 * args.concurrency / (args.latency_ms / 1000)  # deliveries per second if every wait overlapped
    deliveries = 2 * args.cases
    exams = (args.cases + 1) // 2
    lost = problems.get("callback_never_arrived", 0)
    print(
        f"{args.cases} cases ({deliveries} deliveries: sync, SSE, callback), --harness-concurrency "
        f"{args.concurrency}, model latency {args.latency_ms:.0f} ms, {os.cpu_count()} CPUs, services apart"
    )
    print(f"  result: {last}; totals {run['totals']}")
    print(f"  deliveries in flight at once (peak)  {peak:6d}        x{peak / (2 * args.concurrency):.2f} of the bound")
    print(
        f"  throughput                           {deliveries / wall:6.1f} /s     x{deliveries / wall / ideal:.2f} "
        f"of the ideal {ideal:.0f}/s (bound / latency; wall {wall:.1f} s includes start-up)"
    )
    print(
        f"  harness CPU per case                 {(cpu - collect_cpu) / args.cases * 1000:6.1f} ms     "
        f"(run {cpu:.1f} s CPU minus collecting the same suite {collect_cpu:.1f} s)"
    )
    print(f"  callbacks judged {callbacks} of {exams}, lost {lost}; delivery problems {problems or 'none'}")


if __name__ == "__main__":
    main()
