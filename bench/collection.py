"""How collection scales: N generated cases against pytest collecting 3 x N parametrized no-op tests.

Each case makes three items (qa, prod, parity), and so does each of the spec's generated negative cases
(``--negatives``, 20 as in the shipped specs), so the baseline is pytest's own collection of the same
number of items: ``--collect-only -q`` of plain parametrized tests in as many files, without the plugin.
Prints wall time, the ratio to that baseline, time per item and the peak memory (max RSS) of each run.
The machine may be busy: ``--repeat`` runs the pair again, alternating which goes first, and prints the
range of ratios (each one measured side by side) and their median, of wall time and of CPU time (user and
system: less swayed by other jobs on the machine).

    python bench/collection.py --cases 10000 --repeat 5     # the 1.5x budget
    python bench/collection.py --cases 10000 100000         # linearity and memory at 100,000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _specs import EXAM_SPEC  # bench/ is on sys.path: these scripts run as files


def write_cases(root: Path, cases: int, files: int, negatives: int = 0) -> None:
    folder = root / "cases" / "exam"
    folder.mkdir(parents=True)
    negative = f"negative: {{schema: openapi, count: {negatives}}}\n" if negatives else ""
    (folder / "service.yaml").write_text(EXAM_SPEC + negative)
    per_file = cases // files
    for f in range(files):
        lines = ["defaults:", "  checks: [exam_format, question_count, no_pii]", "  parity: structural", "cases:"]
        for n in range(per_file):
            lines.append(
                f"  - id: case-{f}-{n}\n    input: {{course_title: Introduction to Biology, "
                f"course_topic: Cell Structure, num_questions: {n % 10 + 1}}}\n    marks: [smoke]"
            )
        (folder / f"file_{f:04d}.yaml").write_text("\n".join(lines) + "\n")
    (root / "pytest.ini").write_text("[pytest]\nmarkers =\n    smoke: fast subset\n")


def write_plain(root: Path, tests: int, files: int) -> None:
    (root / "tests").mkdir(parents=True)
    for f in range(files):
        count = tests // files + (f < tests % files)
        (root / "tests" / f"test_{f:04d}.py").write_text(
            f"import pytest\n\n@pytest.mark.parametrize('n', range({count}))\ndef test_noop(n):\n    pass\n"
        )
    (root / "pytest.ini").write_text("[pytest]\n")


def collect(root: Path, *extra: str) -> tuple[float, float, int, str]:
    """Wall time, CPU time, peak memory and closing line of one ``pytest --collect-only`` process, run as a user
    runs it (``python -m pytest``); CPU and memory from that child's own resource usage (``os.wait4``)."""
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *extra]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=root, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        sys.exit(f"collection failed ({child.returncode}):\n{stdout[-3000:]}\n{stderr[-2000:]}")
    last = stdout.strip().splitlines()[-1]
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, nargs="+", default=[10_000])
    parser.add_argument("--cases-per-file", type=int, default=100)
    parser.add_argument("--negatives", type=int, default=20, help="the spec's generated negative cases")
    parser.add_argument("--repeat", type=int, default=1, help="side-by-side pairs per size (ranges from 2 up)")
    args = parser.parse_args()
    for cases in args.cases:
        files = max(1, cases // args.cases_per_file)
        items = 3 * (cases + args.negatives)
        print(f"{cases} cases in {files} files and {args.negatives} generated negative cases ({items} items)")
        ratios: list[float] = []
        cpu_ratios: list[float] = []
        with tempfile.TemporaryDirectory() as plain_tmp, tempfile.TemporaryDirectory() as cases_tmp:
            write_plain(Path(plain_tmp), items, files)
            write_cases(Path(cases_tmp), cases, files, args.negatives)
            for run in range(args.repeat):
                # Alternate which goes first, so a burst of load on the machine does not always hit the same one.
                runs = {"plain": (Path(plain_tmp), "-p", "no:harness"), "cases": (Path(cases_tmp),)}
                measured = {name: collect(*runs[name]) for name in (sorted(runs) if run % 2 else sorted(runs)[::-1])}
                (base, base_cpu, base_rss, base_last), (took, cpu, rss, last) = measured["plain"], measured["cases"]
                ratios.append(took / base)
                cpu_ratios.append(cpu / base_cpu)
                print(
                    f"  pytest, {items} parametrized no-op tests (baseline)  {base:7.2f} s  x1.00  "
                    f"{base / items * 1e6:5.0f} us/item  {base_rss / 1024:6.0f} MiB  cpu {base_cpu:6.2f} s   "
                    f"[{base_last}]"
                )
                print(
                    f"  qa-harness, {cases} cases                          {took:7.2f} s  x{took / base:.2f}  "
                    f"{took / items * 1e6:5.0f} us/item  {rss / 1024:6.0f} MiB  cpu {cpu:6.2f} s "
                    f"(x{cpu / base_cpu:.2f})   "
                    f"[{last}]   (budget x1.50)"
                )
        if len(ratios) > 1:
            print(
                f"  ratio over {len(ratios)} pairs: x{min(ratios):.2f}-x{max(ratios):.2f}, "
                f"median x{statistics.median(ratios):.2f}; CPU time x{min(cpu_ratios):.2f}-x{max(cpu_ratios):.2f}, "
                f"median x{statistics.median(cpu_ratios):.2f}"
            )


if __name__ == "__main__":
    main()
