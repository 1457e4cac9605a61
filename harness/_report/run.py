"""The run record: pytest's reports collected into ``run.json``, with per-endpoint statistics.

Input is one entry per pytest report (the outcome category pytest counted, and the item's record when it
has one), so the totals here are the totals pytest prints. The run record dict is also the baseline
format (``baseline.py``) and what ``render.py`` turns into ``summary.md`` and the terminal summary.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness._report.records import CASE_HEADER_KEYS, one_line

RUN_FORMAT = "qa-harness-run/1"
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
_SEVERITY = {"error": 5, "failed": 4, "xpassed": 3, "passed": 2, "xfailed": 1, "skipped": 0}


# ---------------------------------------------------------------- collecting reports


@dataclass
class ItemResult:
    """What pytest reported for one item, across its setup, call and teardown."""

    nodeid: str
    outcome: str = ""
    """The worst outcome reported; empty until a report counts (a passed setup does not)."""
    duration_s: float = 0.0
    message: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    """``case``, ``case_id``, ``file``, ``line``, ``service``, ``part`` of a harness item."""
    record: dict[str, Any] | None = None


class RunCollector:
    """Accumulates reports (from this process or from xdist workers) into items and pytest's totals."""

    def __init__(self) -> None:
        self.items: dict[str, ItemResult] = {}
        self.totals: Counter[str] = Counter()

    def add(
        self,
        nodeid: str,
        category: str,
        *,
        duration_s: float = 0.0,
        message: str = "",
        info: dict[str, Any] | None = None,
        record: dict[str, Any] | None = None,
    ) -> None:
        """One report; ``category`` is pytest's (``passed``, ``failed``, ``error``, ``skipped``, ``x...``, ``""``)."""
        if category:
            self.totals[category] += 1
        item = self.items.get(nodeid)
        if item is None:
            item = self.items[nodeid] = ItemResult(nodeid)
        item.duration_s += duration_s
        if info:
            item.info = info
        if record is not None:
            item.record = record
        # The worst report decides: a teardown error after a pass makes the item an error.
        if category in _SEVERITY and _SEVERITY[category] > _SEVERITY.get(item.outcome, -1):
            item.outcome = category
            item.message = message


# ---------------------------------------------------------------- the run record


def _median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _turn_outcomes(record: dict[str, Any]) -> list[dict[str, Any]]:
    if record.get("part") == "parity":
        return []
    return [turn["outcome"] for run in record.get("runs", []) for turn in run.get("turns", [])]


def _part_entry(item: ItemResult) -> dict[str, Any]:
    entry: dict[str, Any] = {"nodeid": item.nodeid, "outcome": item.outcome, "duration_s": round(item.duration_s, 4)}
    record = item.record
    reason = record.get("reason", "") if record is not None and not record.get("passed") else ""
    if item.outcome in ("failed", "error") or (item.outcome == "skipped" and item.message):
        entry["reason"] = one_line(reason or item.message)
    if record is None:
        return entry
    outcomes = _turn_outcomes(record)
    totals = [o["total_s"] for o in outcomes if o.get("total_s") is not None]
    ttfts = [o["ttft_s"] for o in outcomes if o.get("ttft_s") is not None]
    problems = Counter(p["kind"] for o in outcomes for p in o.get("problems", []))
    entry.update(
        {
            "passed": record.get("passed"),
            "pass_rate": record.get("pass_rate"),
            "min_pass_rate": record.get("min_pass_rate"),
            "repeats": record.get("repeats"),
            "checks": record.get("checks", []),
        }
    )
    if record.get("compare") is not None:
        entry["compare"] = record["compare"]
    if outcomes:
        entry["delivery"] = outcomes[0].get("delivery")
        entry["latency_s"] = _median(totals)
        entry["latency_max_s"] = max(totals) if totals else None
        entry["ttft_s"] = _median(ttfts)
        entry["problems"] = dict(problems)
    entry["runs"] = record.get("runs", [])
    return entry


def _split_nodeid(nodeid: str) -> tuple[str, str]:
    case, _, part = nodeid.rpartition("::")
    return case, part


def build_run_record(
    collector: RunCollector,
    *,
    target: str = "",
    faults: Iterable[str] = (),
    created_at: str | None = None,
    duration_s: float | None = None,
) -> dict[str, Any]:
    """The JSON-ready run record: totals as pytest counted them, every case's parts, per-endpoint stats."""
    cases: dict[str, dict[str, Any]] = {}
    for item in collector.items.values():
        info = dict(item.info)
        if item.record is not None:
            for key in CASE_HEADER_KEYS:
                info.setdefault(key, item.record.get(key))
        if not info.get("part"):
            continue  # not a harness item: counted in the totals only
        case_nodeid, part = _split_nodeid(item.nodeid)
        case = cases.setdefault(
            case_nodeid,
            {
                **{key: info.get(key) for key in CASE_HEADER_KEYS if key != "part"},
                "case": info.get("case") or case_nodeid,
                "parts": {},
            },
        )
        case["parts"][info.get("part") or part] = _part_entry(item)
    run: dict[str, Any] = {
        "format": RUN_FORMAT,
        "created_at": created_at or datetime.now(UTC).isoformat(timespec="seconds"),
        "target": target,
        "faults": list(faults),
        "duration_s": round(duration_s, 3) if duration_s is not None else None,
        "totals": {name: collector.totals.get(name, 0) for name in OUTCOMES},
        "cases": sorted(cases.values(), key=lambda c: (str(c["service"]), str(c["case"]))),
    }
    run["endpoints"] = endpoint_stats(run)
    return run


def endpoint_stats(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Per service and endpoint (``qa``, ``prod``, ``parity``): counts, pass rate, latency and TTFT percentiles."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for case in run.get("cases", []):
        for part, entry in case["parts"].items():
            groups.setdefault((str(case.get("service")), part), []).append(entry)
    order = {"qa": 0, "prod": 1, "parity": 2}
    stats = []
    for (service, part), entries in sorted(groups.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9))):
        counts = Counter(e["outcome"] for e in entries)
        judged = counts["passed"] + counts["failed"] + counts["error"]
        latencies = [
            o["total_s"]
            for e in entries
            for run_ in e.get("runs", [])
            for t in run_.get("turns", [])
            if (o := t["outcome"]).get("total_s") is not None
        ]
        ttfts = [
            o["ttft_s"]
            for e in entries
            for run_ in e.get("runs", [])
            for t in run_.get("turns", [])
            if (o := t["outcome"]).get("ttft_s") is not None
        ]
        problems: Counter[str] = Counter()
        for e in entries:
            problems.update(e.get("problems", {}))
        deliveries = sorted({e["delivery"] for e in entries if e.get("delivery")})
        stats.append(
            {
                "service": service,
                "endpoint": part,
                "delivery": ",".join(deliveries) or None,
                "items": len(entries),
                **{name: counts[name] for name in OUTCOMES},
                "pass_rate": counts["passed"] / judged if judged else None,
                "latency_p50_s": percentile(latencies, 50),
                "latency_p95_s": percentile(latencies, 95),
                "ttft_p50_s": percentile(ttfts, 50),
                "ttft_p95_s": percentile(ttfts, 95),
                "callback_duplicates": problems["callback_duplicate"],
                "callback_late": problems["callback_late"],
            }
        )
    return stats


def parts(run: dict[str, Any]) -> Iterable[tuple[dict[str, Any], str, dict[str, Any]]]:
    for case in run.get("cases", []):
        for part, entry in case["parts"].items():
            yield case, part, entry


def failing_parts(run: dict[str, Any]) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """Failed and errored parts, in case order."""
    return [(c, p, e) for c, p, e in parts(run) if e["outcome"] in ("failed", "error")]


def slowest_parts(run: dict[str, Any], count: int = 5) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """The ``count`` parts with the highest worst-case latency."""
    timed = [(c, p, e) for c, p, e in parts(run) if e.get("latency_max_s") is not None]
    return sorted(timed, key=lambda cpe: -float(cpe[2]["latency_max_s"]))[:count]


def totals_line(totals: dict[str, int]) -> str:
    """``3 failed, 12 passed`` in pytest's order and words."""
    words = {"error": "errors"}
    parts = []
    for name in ("failed", "passed", "skipped", "xfailed", "xpassed", "error"):
        n = totals.get(name, 0)
        if n:
            parts.append(f"{n} {words.get(name, name) if n != 1 else name}")
    return ", ".join(parts) or "no tests ran"


def write_json(path: Path, data: dict[str, Any], mask: Callable[[str], str] = str) -> None:
    """Write ``data`` as indented UTF-8 JSON (through ``mask``, which hides secrets), creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    path.write_text(mask(text) + "\n", encoding="utf-8")
