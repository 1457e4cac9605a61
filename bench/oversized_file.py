"""What refusing an oversized case file costs: time and peak memory of the refusal, by file size.

Writes a case file of one huge string (the shape of issue 22's 30 MB file) at each size, refuses it with
``read_located`` (the loader every case file goes through) and prints the median time and the peak of
Python allocations (tracemalloc) during the refusal. The refusal reads up to the limit a megabyte at a
time, so neither figure should grow with the file.

    python bench/oversized_file.py --sizes-mb 6 30 300 --runs 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from harness._errors import CaseFileError
from harness._model._yaml import read_located


def _write(path: Path, megabytes: int) -> None:
    with path.open("w", encoding="utf-8") as file:
        file.write("cases:\n  - id: huge\n    input:\n      text: ")
        chunk = "x" * (1024 * 1024)
        for _ in range(megabytes):
            file.write(chunk)
        file.write("\n")


def _refuse(path: Path) -> tuple[float, int, str]:
    """(seconds, peak bytes allocated, the message) of one refusal."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        read_located(path, "cases/huge.yaml")
    except CaseFileError as exc:
        message = str(exc).splitlines()[0]
    else:
        raise SystemExit(f"{path} was not refused")
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak, message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[6, 30, 300])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'file':>8}  {'median time':>12}  {'peak memory':>12}  message")
    with tempfile.TemporaryDirectory() as tmp:
        for megabytes in args.sizes_mb:
            path = Path(tmp) / f"huge-{megabytes}.yaml"
            _write(path, megabytes)
            runs = [_refuse(path) for _ in range(args.runs)]
            seconds = statistics.median(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            print(f"{megabytes:>5} MB  {seconds * 1000:>9.1f} ms  {peak / 1024 / 1024:>9.2f} MB  {runs[0][2]}")
            path.unlink()


if __name__ == "__main__":
    main()
