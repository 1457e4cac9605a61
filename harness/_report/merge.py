"""Merging the reports of a suite split across CI machines (shards) into the reports of one run.

Each shard writes its usual report dir (``run.json``, ``junit.xml``, ``allure-results/``); :func:`merge_reports`
adds them up: one ``run.json`` whose totals are the shards' sums and whose per-endpoint statistics are
recomputed over every case, the ``summary.md`` rendered from it, one ``junit.xml`` holding every shard's test
suite, and every shard's allure results in one folder. No pytest here: ``harness merge`` calls it.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness._errors import HarnessUsageError
from harness._report.run import OUTCOMES, RUN_FORMAT, endpoint_stats, write_json

ALLURE_SUBDIR = "allure-results"


@dataclass(frozen=True)
class MergeResult:
    """What :func:`merge_reports` wrote."""

    run: dict[str, Any]
    shards: int
    allure_files: int


def _load_run(shard: Path) -> dict[str, Any]:
    path = shard / "run.json"
    try:
        run: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HarnessUsageError(f"{path}: no run.json; pass the report dirs the shards wrote") from None
    except json.JSONDecodeError as exc:
        raise HarnessUsageError(f"{path}: not JSON ({exc}); is the shard's upload complete?") from None
    if run.get("format") != RUN_FORMAT:
        raise HarnessUsageError(f"{path}: not a qa-harness run record (format {run.get('format')!r})")
    return run


def merge_runs(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One run record from the shards': totals summed, cases joined, endpoint statistics recomputed.

    A case part reported by two shards means the shards overlapped (the same ``--splits`` and durations
    file on every shard avoid that): a usage error, since a sum would count it twice.
    """
    cases: dict[str, dict[str, Any]] = {}
    for run in runs:
        for case in run.get("cases", []):
            merged = cases.setdefault(case["case"], {**case, "parts": {}})
            for part, entry in case["parts"].items():
                if part in merged["parts"]:
                    raise HarnessUsageError(
                        f"{case['case']}::{part} is in more than one shard; give every shard the same --splits "
                        "and --durations-path so each item runs on exactly one"
                    )
                merged["parts"][part] = entry
    durations = [r["duration_s"] for r in runs if r.get("duration_s") is not None]
    merged_run: dict[str, Any] = {
        "format": RUN_FORMAT,
        "created_at": min((r.get("created_at") or "" for r in runs), default=""),
        "target": runs[0].get("target", "") if runs else "",
        "faults": sorted({f for r in runs for f in r.get("faults", [])}),
        "duration_s": max(durations) if durations else None,  # the shards ran side by side
        "shards": len(runs),
        "totals": {name: sum(r.get("totals", {}).get(name, 0) for r in runs) for name in OUTCOMES},
        "cases": sorted(cases.values(), key=lambda c: (str(c.get("service")), str(c["case"]))),
    }
    merged_run["endpoints"] = endpoint_stats(merged_run)
    return merged_run


def merge_junit(paths: Sequence[Path], out: Path) -> None:
    """One ``<testsuites>`` holding every shard's ``<testsuite>``, with the summed counts on top."""
    root = ET.Element("testsuites", {"name": "pytest tests"})
    sums = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    time = 0.0
    for index, path in enumerate(paths, 1):
        for suite in ET.parse(path).getroot().iter("testsuite"):
            suite.set("name", f"{suite.get('name', 'pytest')} (shard {index})")
            for key in sums:
                sums[key] += int(suite.get(key, "0"))
            time = max(time, float(suite.get("time", "0")))
            root.append(suite)
    for key, value in sums.items():
        root.set(key, str(value))
    root.set("time", f"{time:.3f}")
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)


def merge_reports(shards: Sequence[Path], out: Path) -> MergeResult:
    """Merge the report dirs ``shards`` into ``out``: run.json, summary.md, junit.xml, allure-results/."""
    from harness._report.render import render_summary_md

    if not shards:
        raise HarnessUsageError("no shard report dirs given; e.g. harness merge -o reports shard-*/reports")
    if any(out.resolve() == shard.resolve() for shard in shards):
        raise HarnessUsageError(f"{out} is also a shard; merge into a folder of its own")
    run = merge_runs([_load_run(shard) for shard in shards])
    write_json(out / "run.json", run)
    (out / "summary.md").write_text(render_summary_md(run), encoding="utf-8")
    junits = [shard / "junit.xml" for shard in shards if (shard / "junit.xml").is_file()]
    if junits:
        merge_junit(junits, out / "junit.xml")
    copied = 0
    for shard in shards:
        results = shard / ALLURE_SUBDIR
        if results.is_dir():
            target = out / ALLURE_SUBDIR
            target.mkdir(parents=True, exist_ok=True)
            for file in results.iterdir():
                # allure names results by uuid, so shards never collide; a same-named file is the same file.
                shutil.copy2(file, target / file.name)
                copied += 1
    return MergeResult(run=run, shards=len(shards), allure_files=copied)
