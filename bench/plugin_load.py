"""What installing the plugin costs a run that has nothing to do with it: one unrelated test.

Times ``pytest test_one.py`` with the plugin and with ``-p no:harness`` (the baseline), alternating the two so
machine noise hits both alike, and prints the medians and their ratio.

    python bench/plugin_load.py --runs 9
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(root: Path, *extra: str) -> float:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"pytest {' '.join(extra)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        (root / "pytest.ini").write_text("[pytest]\n")
        timed(root)  # warm the file cache
        plain: list[float] = []
        loaded: list[float] = []
        for _ in range(args.runs):
            plain.append(timed(root, "-p", "no:harness"))
            loaded.append(timed(root))
        base, with_plugin = statistics.median(plain), statistics.median(loaded)
        print(f"one unrelated test, median of {args.runs} alternating runs")
        print(f"  pytest -p no:harness (baseline)  {base:6.3f} s   x1.00")
        print(f"  pytest with qa-harness           {with_plugin:6.3f} s   x{with_plugin / base:.2f} (budget x1.15)")


if __name__ == "__main__":
    main()
