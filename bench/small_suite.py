"""A new user's small suite under ``-n auto``: 6 cases (18 items) against a ``--base-url`` answering in milliseconds.

Starts the reference services as a separate server (``python -m reference_services``), as a deployed service
would be, writes 6 exam cases against it, and runs them in one process and with ``-n auto``, alternating which
goes first; prints wall times, their ratio and what the harness decided for ``-n auto`` (its report header line).

    python bench/small_suite.py --repeat 3
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _processes import free_port, wait_up  # bench/ is on sys.path: these scripts run as files
from _specs import EXAM_SPEC  # bench/ is on sys.path: these scripts run as files

TOKEN = "bench-token"
SECRET = "whsec_YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldA=="


def write_suite(root: Path, cases: int) -> None:
    (root / "cases" / "exam").mkdir(parents=True)
    (root / "cases" / "exam" / "service.yaml").write_text(EXAM_SPEC)
    lines = ["defaults:", "  checks: [exam_format]", "cases:"]
    for n in range(cases):
        lines.append(
            f"  - id: case-{n}\n    input: {{course_title: Introduction to Biology, "
            f"course_topic: Cell Structure, num_questions: {n % 5 + 1}}}"
        )
    (root / "cases" / "exam" / "mine.yaml").write_text("\n".join(lines) + "\n")
    (root / "pytest.ini").write_text("[pytest]\n")


def run(root: Path, base_url: str, *extra: str) -> tuple[float, str, str]:
    """Wall time, closing line and the harness's word on ``-n auto`` (if any) of one run."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--base-url",
        base_url,
        "--harness-qa-token",
        TOKEN,
        "--harness-callback-secret",
        SECRET,
        *extra,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.perf_counter() - started
    lines = done.stdout.strip().splitlines() or ["(no output)"]
    if done.returncode != 0:
        sys.exit(f"pytest {' '.join(extra)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    decided = next((line for line in lines if line.startswith("qa-harness: -n auto")), "(xdist's count)")
    return elapsed, lines[-1].strip("= "), decided


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reference_services",
            "--port",
            str(port),
            "--qa-token",
            TOKEN,
            "--callback-secret",
            SECRET,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{base_url}/health", server)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_suite(root, args.cases)
            print(f"{args.cases} cases ({3 * args.cases} items) against {base_url} (model latency 0 ms)")
            for attempt in range(args.repeat):
                runs = {"one process": (), "-n auto": ("-n", "auto")}
                order = list(runs) if attempt % 2 == 0 else list(runs)[::-1]
                measured = {name: run(root, base_url, *runs[name]) for name in order}
                (one, one_last, _), (auto, auto_last, decided) = measured["one process"], measured["-n auto"]
                print(f"  one process {one:6.2f} s [{one_last}]")
                print(f"  -n auto     {auto:6.2f} s [{auto_last}]  x{auto / one:.2f} of one process  {decided}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
