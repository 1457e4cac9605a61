"""How many xdist workers ``-n auto`` starts for a run of case files: none when they cannot pay for themselves.

A worker costs an interpreter's start-up, its own collection and its own child that draws negative cases
(``WORKER_START_S``) before its first case; what it buys is another window of ``--harness-concurrency`` cases in
flight and another core for the checks. So, before any worker starts (xdist asks through
``pytest_xdist_auto_num_workers``), the run's case files are counted:

- a run whose paths hold Python tests besides case files keeps xdist's count: their cost is unknown;
- cases that fit in one process's window run in one process: every case is in flight from the start anyway;
- against the in-process reference services, whose model latency is known, workers start only when what they
  would take off the run exceeds their start-up: one model wait per window of cases, and ``CPU_S_PER_CASE`` per
  case (a generated negative case, answered with an error before any model runs, a tenth of one), spread over
  the workers; against ``--base-url`` the waits are unknown, so a worker per window of cases, up to xdist's count.

Dataset rows are not counted: projects deselect them by default (this repository's conftest does), and an
estimate that counted them would start workers for runs that never see them.
"""

from __future__ import annotations

import fnmatch
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness._model._specs import SPEC_FILENAME, SpecCatalog

__all__ = ["CPU_S_PER_CASE", "WORKER_START_S", "Workload", "auto_workers", "count_workload"]

WORKER_START_S = 4.0
"""What workers cost before their first case: on this project's busy 2-core machine they were ready 3.7 s after
one process had collected the shipped suite (``bench/slowest.py``); a quiet machine with more cores pays less, and
the rule then starts workers a little later than it could."""
CPU_S_PER_CASE = 0.03
"""CPU of one case in the harness and the in-process services (``bench/ceiling.py`` measures about 22 ms for the
harness alone)."""
NEGATIVE_WEIGHT = 0.1
MAX_ENTRIES_SCANNED = 20_000
"""Looking for Python tests beside the case files stops here: a tree this large keeps xdist's count."""


@dataclass(frozen=True)
class Workload:
    """What a run holds, as far as can be told before collecting it."""

    cases: int
    """Cases written in its case files."""
    negative: int = 0
    """Generated negative cases its specs ask for."""
    python_tests: bool = False
    """Its paths hold (or may hold) tests other than case files."""

    @property
    def weight(self) -> float:
        """Cases, a generated negative case counting ``NEGATIVE_WEIGHT`` of one."""
        return self.cases + NEGATIVE_WEIGHT * self.negative


def auto_workers(workload: Workload, available: int, *, concurrency: int, latency_s: float | None) -> int:
    """How many workers to start (0: run in this process), given xdist's count and the case window per process.

    ``latency_s`` is the in-process model's latency; None for a deployed target (unknown).
    """
    if workload.python_tests:
        return available
    windows = math.ceil(workload.weight / concurrency)
    workers = min(available, windows)
    if workers <= 1:
        return 0
    if latency_s is None:
        return workers
    waits = math.ceil(workload.cases / concurrency) * latency_s
    saved = (waits + workload.weight * CPU_S_PER_CASE) * (1 - 1 / workers)
    return workers if saved > WORKER_START_S else 0


def count_workload(
    catalog: SpecCatalog,
    args: Sequence[str],
    invocation_dir: Path,
    *,
    python_files: Sequence[str],
    norecursedirs: Sequence[str],
) -> Workload:
    """Count the cases under the run's path arguments, and whether Python tests lie beside them."""
    roots: set[Path] = set()
    python_tests = False
    for arg in args:
        path = Path(invocation_dir, arg.partition("::")[0]).resolve()
        inside = [root for root in catalog.case_roots if path.is_relative_to(root)]
        if inside:
            roots.add(path)
            continue
        roots.update(root for root in catalog.case_roots if root.is_relative_to(path) and root.exists())
        python_tests = python_tests or _holds_python_tests(path, catalog.case_roots, python_files, norecursedirs)
    cases = negative = 0
    for file in _case_files(roots, catalog):
        if file.name == SPEC_FILENAME:
            negative += _negative_count(file)
        else:
            cases += _case_count(file)
    return Workload(cases, negative, python_tests)


def _case_files(roots: set[Path], catalog: SpecCatalog) -> Iterator[Path]:
    """The YAML files under ``roots`` that the catalog treats as case files or specs."""
    seen: set[Path] = set()
    for root in roots:
        files = [root] if root.is_file() else (*root.rglob("*.yaml"), *root.rglob("*.yml"))
        for file in files:
            if file not in seen and file.suffix in (".yaml", ".yml") and catalog.holds_cases(file):
                seen.add(file)
                yield file


def _load(file: Path) -> Any:
    """A YAML file's data; None when it cannot be read (collection reports it)."""
    import yaml  # lazy, as everywhere: the plugin loads without it

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(file.read_bytes(), Loader=loader)  # a safe loader (libyaml's when built)
    except (OSError, yaml.YAMLError):
        return None


def _case_count(file: Path) -> int:
    """The cases a case file writes out (one for a file that cannot be read: as good a guess as any)."""
    data = _load(file)
    if not isinstance(data, dict):
        return 1
    cases = data.get("cases")
    return len(cases) if isinstance(cases, list) else 0


def _negative_count(spec: Path) -> int:
    """The generated negative cases a service spec asks for."""
    data = _load(spec)
    negative = data.get("negative") if isinstance(data, dict) else None
    count = negative.get("count", 20) if isinstance(negative, dict) else 0
    return count if isinstance(count, int) else 0


def _holds_python_tests(
    path: Path, case_roots: Sequence[Path], python_files: Sequence[str], norecursedirs: Sequence[str]
) -> bool:
    """Whether ``path`` holds a Python test file outside the case roots (as pytest would find one, roughly)."""
    if path.is_file():
        return path.suffix == ".py"
    scanned = 0
    for folder, dirs, files in os.walk(path):
        scanned += len(dirs) + len(files)
        if scanned > MAX_ENTRIES_SCANNED:
            return True
        if any(fnmatch.fnmatch(name, pattern) for name in files for pattern in python_files):
            return True
        dirs[:] = [
            name
            for name in dirs
            if not any(fnmatch.fnmatch(name, pattern) for pattern in norecursedirs)
            and not Path(folder, name, "pyvenv.cfg").exists()  # a virtualenv: pytest does not look inside
            and Path(folder, name).resolve() not in case_roots
        ]
    return False
