"""The run record and what is built from it: ``run.json``, ``summary.md``, the terminal summary, baselines.

Input is one entry per pytest report (the outcome category pytest counted, and the item's record when it
has one), so the totals here are the totals pytest prints. Everything else is derived from the run record
dict, which is also the baseline format: a saved ``run.json`` can be compared with a later run.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness._errors import HarnessUsageError

RUN_FORMAT = "qa-harness-run/1"
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
_SEVERITY = {"error": 5, "failed": 4, "xpassed": 3, "passed": 2, "xfailed": 1, "skipped": 0}
CALLBACK_PROBLEMS = {"callback_duplicate": "duplicates", "callback_late": "late"}
DEFAULT_LATENCY_TOLERANCE = 0.5
LATENCY_FLOOR_S = 0.1
"""Slowdowns smaller than this never count as regressions: in-process timings are milliseconds of noise."""
REASON_LIMIT = 160
SUMMARY_FAILURE_LIMIT = 50


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


def failure_reason(record: dict[str, Any]) -> str:
    """One line saying why a part failed, from its record."""
    for number, run in enumerate(record.get("runs", []), 1):
        if run.get("passed"):
            continue
        prefix = f"repeat {number}: " if record.get("repeats", 1) > 1 else ""
        if record.get("part") == "parity":
            if run.get("blocked"):
                return prefix + str(run["blocked"])
            for report in run.get("reports", []):
                if not report.get("passed"):
                    return f"{prefix}{report.get('level')} parity failed: {report.get('summary')}"
            for check in run.get("checks", []):
                if not check.get("passed"):
                    return f"{prefix}{check['name']}: {check.get('message')}"
        else:
            if run.get("error"):
                return prefix + str(run["error"])
            for turn in run.get("turns", []):
                for problem in turn["outcome"].get("problems", []):
                    return f"{prefix}{problem['kind']}: {problem['message']}"
                for check in turn.get("checks", []):
                    if not check.get("passed"):
                        return f"{prefix}{check['name']}: {check.get('message')}"
    if not record.get("passed"):
        return f"pass rate {record.get('pass_rate', 0):.0%} below min_pass_rate {record.get('min_pass_rate', 1):.0%}"
    return ""


def one_line(text: str, limit: int = REASON_LIMIT) -> str:
    """The first non-empty line of ``text`` (with the next one if it ends in a colon), shortened to ``limit``."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    line = " ".join(lines[:2]) if len(lines) > 1 and lines[0].endswith(":") else (lines[0] if lines else "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _part_entry(item: ItemResult) -> dict[str, Any]:
    entry: dict[str, Any] = {"nodeid": item.nodeid, "outcome": item.outcome, "duration_s": round(item.duration_s, 4)}
    record = item.record
    reason = failure_reason(record) if record is not None and not record.get("passed") else ""
    if item.outcome in ("failed", "error"):
        entry["reason"] = one_line(reason or item.message)
    elif item.outcome == "skipped" and item.message:
        entry["reason"] = one_line(item.message)
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
            for key in ("case", "case_id", "file", "line", "service", "part"):
                info.setdefault(key, item.record.get(key))
        if not info.get("part"):
            continue  # not a harness item: counted in the totals only
        case_nodeid, part = _split_nodeid(item.nodeid)
        case = cases.setdefault(
            case_nodeid,
            {
                "case": info.get("case") or case_nodeid,
                "case_id": info.get("case_id"),
                "file": info.get("file"),
                "line": info.get("line"),
                "service": info.get("service"),
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


def _parts(run: dict[str, Any]) -> Iterable[tuple[dict[str, Any], str, dict[str, Any]]]:
    for case in run.get("cases", []):
        for part, entry in case["parts"].items():
            yield case, part, entry


def failing_parts(run: dict[str, Any]) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """Failed and errored parts, in case order."""
    return [(c, p, e) for c, p, e in _parts(run) if e["outcome"] in ("failed", "error")]


def slowest_parts(run: dict[str, Any], count: int = 5) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """The ``count`` parts with the highest worst-case latency."""
    timed = [(c, p, e) for c, p, e in _parts(run) if e.get("latency_max_s") is not None]
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


# ---------------------------------------------------------------- baselines


@dataclass(frozen=True)
class Regression:
    """One way this run is worse than the baseline."""

    kind: str
    """``failed`` (a part that passed now fails), ``parity`` (parity that held now fails) or ``latency``."""
    case: str
    part: str
    detail: str

    def line(self) -> str:
        """One terminal line."""
        return f"{self.kind}: {self.case} [{self.part}]: {self.detail}"


def parse_tolerance(raw: Any) -> float:
    """``50%`` or ``0.5`` as 0.5; ``HarnessUsageError`` naming the fix otherwise."""
    text = str(raw).strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise HarnessUsageError(
            f"--harness-latency-tolerance must be a non-negative fraction or percentage, got {raw!r}; "
            "e.g. --harness-latency-tolerance 50%"
        )
    return value


def load_baseline(path: str | Path) -> dict[str, Any]:
    """A run record saved with ``--harness-save-baseline``; ``HarnessUsageError`` if it cannot be used."""
    fix = "save one with --harness-save-baseline PATH (or point --harness-baseline at a run.json)"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HarnessUsageError(f"--harness-baseline {path}: no such file; {fix}") from None
    except OSError as exc:
        raise HarnessUsageError(f"--harness-baseline {path}: cannot read it ({exc.strerror}); {fix}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HarnessUsageError(f"--harness-baseline {path}: not JSON ({exc}); {fix}") from None
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT or not isinstance(data.get("cases"), list):
        raise HarnessUsageError(f"--harness-baseline {path}: not a qa-harness run record ({RUN_FORMAT}); {fix}")
    return data


def compare_with_baseline(
    run: dict[str, Any], baseline: dict[str, Any], *, latency_tolerance: float = DEFAULT_LATENCY_TOLERANCE
) -> list[Regression]:
    """Regressions of ``run`` against ``baseline``: parts that passed and now fail, and slowdowns.

    A part counts as slower when its median latency grew by more than ``latency_tolerance`` (a fraction)
    and by at least ``LATENCY_FLOOR_S``. Parts missing from either run (deselected, new) are not compared.
    """
    before = {(c["case"], part): e for c, part, e in _parts(baseline)}
    regressions = []
    for case, part, entry in _parts(run):
        old = before.get((case["case"], part))
        if old is None:
            continue
        if old.get("outcome") == "passed" and entry["outcome"] in ("failed", "error"):
            reason = entry.get("reason") or entry["outcome"]
            kind = "parity" if part == "parity" else "failed"
            regressions.append(Regression(kind, case["case"], part, f"passed in the baseline, now {reason}"))
            continue
        now_s, old_s = entry.get("latency_s"), old.get("latency_s")
        if now_s is None or old_s is None:
            continue
        if now_s > old_s * (1 + latency_tolerance) and now_s - old_s >= LATENCY_FLOOR_S:
            regressions.append(
                Regression(
                    "latency",
                    case["case"],
                    part,
                    f"median latency {now_s:.3f} s vs {old_s:.3f} s in the baseline "
                    f"(+{(now_s / old_s - 1) if old_s else math.inf:.0%}, tolerance {latency_tolerance:.0%})",
                )
            )
    return regressions


# ---------------------------------------------------------------- rendering


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}" if 0 < value < 1 else f"{value:.0%}"


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _md_cell(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("|", "\\|").replace("`", "'").strip()


def _rate(stat: dict[str, Any]) -> str:
    judged = stat["passed"] + stat["failed"] + stat["error"]
    return f"{_pct(stat['pass_rate'])} ({stat['passed']}/{judged})" if judged else "-"


def render_summary_md(run: dict[str, Any], regressions: Sequence[Regression] | None = None) -> str:
    """Markdown for a pull-request comment: totals, a per-endpoint table, failing cases, regressions."""
    totals = run["totals"]
    bad = totals.get("failed", 0) + totals.get("error", 0) + len(regressions or ())
    icon = "❌" if bad else "✅"
    lines = [f"## {icon} qa-harness: {totals_line(totals)}", ""]
    target = run.get("target") or "in-process reference services"
    faults = f" · faults: `{','.join(run['faults'])}`" if run.get("faults") else ""
    took = f" · {run['duration_s']:.1f} s" if run.get("duration_s") is not None else ""
    lines += [f"Target: {target}{faults}{took}", ""]
    stats = run.get("endpoints", [])
    if stats:
        lines += [
            "| Service | Endpoint | Pass rate | Parity rate | Latency p50 | p95 | TTFT p50 | p95 "
            "| Callback dup / late |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in stats:
            is_parity = s["endpoint"] == "parity"
            endpoint = s["endpoint"] + (f" ({s['delivery']})" if s.get("delivery") else "")
            callbacks = (
                f"{s['callback_duplicates']} / {s['callback_late']}" if "callback" in (s.get("delivery") or "") else "-"
            )
            lines.append(
                f"| {s['service']} | {endpoint} | {'-' if is_parity else _rate(s)} | "
                f"{_rate(s) if is_parity else '-'} | {_secs(s['latency_p50_s'])} | {_secs(s['latency_p95_s'])} | "
                f"{_secs(s['ttft_p50_s'])} | {_secs(s['ttft_p95_s'])} | {callbacks} |"
            )
        lines.append("")
    failing = failing_parts(run)
    if failing:
        lines += [f"### Failing ({len(failing)})", "", "| Case | Part | Outcome | Reason |", "|---|---|---|---|"]
        for case, part, entry in failing[:SUMMARY_FAILURE_LIMIT]:
            lines.append(
                f"| `{_md_cell(case['case'])}` | {part} | {entry['outcome']} | {_md_cell(entry.get('reason', ''))} |"
            )
        if len(failing) > SUMMARY_FAILURE_LIMIT:
            lines.append(f"| … and {len(failing) - SUMMARY_FAILURE_LIMIT} more (see run.json) | | | |")
        lines.append("")
    if regressions is not None:
        if regressions:
            lines += [f"### Regressions against the baseline ({len(regressions)})", ""]
            lines += [f"- **{r.kind}** `{_md_cell(r.case)}` [{r.part}]: {_md_cell(r.detail)}" for r in regressions]
        else:
            lines.append("No regressions against the baseline.")
        lines.append("")
    return "\n".join(lines)


def terminal_lines(run: dict[str, Any], *, slowest: int = 5) -> list[str]:
    """The terminal summary: a per-endpoint table and the slowest cases."""
    stats = run.get("endpoints", [])
    if not stats:
        return ["no harness items ran"]
    header = ("service", "endpoint", "pass", "parity", "p50", "p95", "ttft p50", "ttft p95", "dup", "late")
    rows = [header]
    for s in stats:
        is_parity = s["endpoint"] == "parity"
        endpoint = s["endpoint"] + (f" ({s['delivery']})" if s.get("delivery") else "")
        callbacks = "callback" in (s.get("delivery") or "")
        rows.append(
            (
                s["service"],
                endpoint,
                "" if is_parity else _rate(s),
                _rate(s) if is_parity else "",
                _secs(s["latency_p50_s"]) if not is_parity else "",
                _secs(s["latency_p95_s"]) if not is_parity else "",
                _secs(s["ttft_p50_s"]) if s["ttft_p50_s"] is not None else "",
                _secs(s["ttft_p95_s"]) if s["ttft_p95_s"] is not None else "",
                str(s["callback_duplicates"]) if callbacks else "",
                str(s["callback_late"]) if callbacks else "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    slow = slowest_parts(run, slowest)
    if slow:
        lines += ["", f"slowest {len(slow)}:"]
        lines += [
            f"  {_secs(e['latency_max_s']):>8}  {c['case']} [{p}]"
            + (f" ttft {_secs(e['ttft_s'])}" if e.get("ttft_s") else "")
            for c, p, e in slow
        ]
    return lines


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented UTF-8 JSON, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
