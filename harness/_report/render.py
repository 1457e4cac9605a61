"""What people read: ``summary.md`` for a pull-request comment and the terminal summary."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from harness._report.baseline import DriftReport, Regression
from harness._report.run import failing_parts, slowest_parts, totals_line

SUMMARY_FAILURE_LIMIT = 50


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


def render_summary_md(
    run: dict[str, Any], regressions: Sequence[Regression] | None = None, drift: DriftReport | None = None
) -> str:
    """Markdown for a pull-request comment: totals, a per-endpoint table, failing cases, regressions, drift."""
    totals = run["totals"]
    errors = run.get("collection_errors") or []
    status = run.get("exit_status") or {"code": 0, "name": "ok"}
    bad = totals.get("failed", 0) + totals.get("error", 0) + len(regressions or ()) + len(errors)
    # Only a session pytest called passed may show a pass: an interrupted or mis-collected run is not one.
    icon = "❌" if bad or status["code"] != 0 else "✅"
    headline = totals_line(totals)
    if errors:
        headline = f"{len(errors)} collection error{'s' if len(errors) != 1 else ''}, {headline}"
    if status["code"] != 0 and not (status["code"] == 1 and bad):  # "tests failed" goes without saying
        headline += f" (pytest exit status {status['code']}: {status['name'].replace('_', ' ')})"
    lines = [f"## {icon} qa-harness: {headline}", ""]
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
    if errors:
        lines += [f"### Collection errors ({len(errors)})", "", "| Where | Error |", "|---|---|"]
        lines += [f"| `{_md_cell(e['nodeid'])}` | {_md_cell(e['message'][:300])} |" for e in errors]
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
    if drift is not None:
        lines += drift_md(drift)
    return "\n".join(lines)


DRIFT_DIFF_LINES = 12
"""Lines of each drifted answer's diff shown in summary.md (run.json has the whole diff)."""


def drift_md(drift: DriftReport) -> list[str]:
    """The summary.md section on answers that changed since the baseline, each with the start of its diff."""
    lines = [f"### Answers against the baseline: {drift.headline()}", ""]
    for item in drift.drifted[:SUMMARY_FAILURE_LIMIT]:
        lines.append(f"- `{_md_cell(item.case)}` [{item.part}] ({item.level}): {_md_cell(item.summary)}")
        diff = (item.text_diff or item.json_diff).splitlines()
        if diff:
            shown = diff[:DRIFT_DIFF_LINES] + (
                [f"... {len(diff) - DRIFT_DIFF_LINES} more lines"] if len(diff) > DRIFT_DIFF_LINES else []
            )
            lines += ["", "  ```diff", *(f"  {line}" for line in shown), "  ```"]
    if len(drift.drifted) > SUMMARY_FAILURE_LIMIT:
        lines.append(f"- … and {len(drift.drifted) - SUMMARY_FAILURE_LIMIT} more (see run.json)")
    lines.append("")
    return lines


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
