"""An item's record: a case result as a plain dict, the first step from a verdict to every report.

Records are JSON-ready so they can travel from xdist workers to the controller on a test report; the
run record (``run.py``), allure attachments (``allure.py``) and baselines are built from them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from harness._report.excerpts import clip

if TYPE_CHECKING:
    from harness._delivery._outcome import Outcome
    from harness._model._case import ResolvedCase
    from harness._run._results import CaseResult, SideRun
    from harness._verdict._parity import ParityReport

# Records travel to the controller and into run.json and allure attachments: a runaway reply must not
# make them huge. Checks have already judged the whole output; what is cut is marked with its full size.
TEXT_LIMIT = 20_000
BODY_LIMIT = 64 * 1024
TRANSCRIPT_LIMIT = 256 * 1024
REASON_LIMIT = 160
CASE_HEADER_KEYS = ("case", "case_id", "file", "line", "service", "part")
"""What names an item's case in reports; every harness item's reports carry these, records too."""


def item_header(case: str, case_id: str, file: str, line: int, service: str, part: str | None) -> dict[str, Any]:
    """The keys of ``CASE_HEADER_KEYS`` with their values, in that order."""
    return dict(zip(CASE_HEADER_KEYS, (case, case_id, file, line, service, part), strict=True))


def case_header(case: ResolvedCase, part: str | None) -> dict[str, Any]:
    """The header of an item of ``case``."""
    return item_header(case.key, case.id, case.file, case.line, case.service, part)


def one_line(text: str, limit: int = REASON_LIMIT) -> str:
    """The first non-empty line of ``text`` (with the next one if it ends in a colon), shortened to ``limit``."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    line = " ".join(lines[:2]) if len(lines) > 1 and lines[0].endswith(":") else (lines[0] if lines else "")
    return clip(line, limit)


def truncated(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with a visible marker that gives its whole size."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… [truncated, {len(text.encode('utf-8', 'replace')):,} bytes in all]"


def _bounded_body(body: Any) -> Any:
    """The body as is when small; else its JSON, cut and marked."""
    if body is None or isinstance(body, bool | int | float):
        return transportable(body)
    rendered = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, default=str)
    return transportable(body) if len(rendered) <= BODY_LIMIT else truncated(rendered, BODY_LIMIT)


_INT64 = range(-(2**63), 2**63)


def transportable(value: Any) -> Any:
    """``value`` with integers outside 64 bits as strings: xdist's serializer cannot carry them (a service may
    send one), and a record that cannot travel would crash the worker instead of reporting."""
    if isinstance(value, bool) or not isinstance(value, int | dict | list):
        return value
    if isinstance(value, int):
        return value if value in _INT64 else str(value)
    if isinstance(value, list):
        return [transportable(item) for item in value]
    return {key: transportable(item) for key, item in value.items()}


def _bounded_transcript(lines: list[str]) -> list[str]:
    kept: list[str] = []
    size = 0
    for line in lines:
        size += len(line) + 1
        if size > TRANSCRIPT_LIMIT:
            total = sum(len(ln.encode("utf-8", "replace")) + 1 for ln in lines)
            kept.append(f"… [transcript truncated, {len(lines):,} lines, {total:,} bytes in all]")
            break
        kept.append(line)
    return kept


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    """What one endpoint delivered, with timings and problems; text, body and transcript bounded."""
    text = outcome.text
    return {
        "endpoint": outcome.endpoint,
        "delivery": outcome.delivery,
        "status": outcome.status,
        "text": truncated(text, TEXT_LIMIT) if text else text,
        "sources": outcome.sources,
        "metadata": transportable(outcome.metadata),
        "body": _bounded_body(outcome.body),
        "started_at": outcome.timings.started_at,
        "total_s": outcome.timings.total_s,
        "ttft_s": outcome.timings.ttft_s,
        "ack_s": outcome.timings.ack_s,
        "problems": [{"kind": p.kind, "message": p.message} for p in outcome.problems],
        "request": transportable(outcome.request),
        "transcript": _bounded_transcript(outcome.transcript),
    }


def report_record(report: ParityReport) -> dict[str, Any]:
    """A parity (or golden-output) report as a plain dict."""
    return {
        "level": report.level,
        "passed": report.passed,
        "summary": report.summary,
        "text_diff": report.text_diff,
        "json_diff": report.json_diff,
        "similarity": report.similarity,
        "threshold": report.threshold,
        "noise": report.noise,
        "judge": report.judge,
    }


def answer_comparison(case: ResolvedCase) -> dict[str, Any] | None:
    """How this case's answers are compared with a baseline's: its golden output's level, else its parity's."""
    golden = case.case.golden
    if golden is not None:
        return {"level": golden.level, "threshold": golden.threshold, "ignore": list(golden.ignore)}
    if case.parity.level == "none":
        return None
    return {"level": case.parity.level, "threshold": case.parity.threshold, "ignore": list(case.parity.ignore)}


def _side_record(side: SideRun) -> dict[str, Any]:
    return {
        "passed": side.passed,
        "error": str(side.error) if side.error else None,
        "turns": [
            {
                "outcome": outcome_record(turn.outcome),
                "checks": [
                    {"name": c.name, "passed": c.passed, "message": c.message, "duration_s": c.duration_s}
                    for c in turn.checks
                ],
                **({"golden": report_record(turn.golden)} if turn.golden is not None else {}),
            }
            for turn in side.turns
        ],
    }


def part_record(result: CaseResult, part: str) -> dict[str, Any]:
    """One item's record: the case, the part (qa, prod, parity), pass rate and every run's detail (built once)."""
    if part not in result.records:
        result.records[part] = _part_record(result, part)
    return result.records[part]


def _part_record(result: CaseResult, part: str) -> dict[str, Any]:
    case = result.case
    runs: list[dict[str, Any]] = []
    for run in result.runs:
        if part == "parity":
            parity = run.parity
            runs.append(
                {
                    "passed": bool(parity and parity.passed),
                    "blocked": parity.blocked if parity else None,
                    "reports": [report_record(r) for r in (parity.reports if parity else [])],
                    "checks": [
                        {"name": c.name, "passed": c.passed, "message": c.message}
                        for c in (parity.checks if parity else [])
                    ],
                }
            )
        else:
            runs.append(_side_record(run.sides[part]))
    passed = result.passed(part)
    return {
        **case_header(case, part),
        "passed": passed,
        "reason": "" if passed else one_line(result.first_failure(part)),
        "pass_rate": result.pass_rate(part),
        "min_pass_rate": case.min_pass_rate,
        "repeats": len(result.runs),
        "checks": [name for name, _ in case.checks],
        **({"compare": answer_comparison(case)} if part != "parity" else {}),
        "runs": runs,
    }


def delivery_record(header: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    """The record of one delivery made from Python (``harness_deliver``), shaped like a qa/prod item's.

    ``header`` holds the ``CASE_HEADER_KEYS`` of the test that delivered (``part``: the endpoint).
    """
    from harness._run._results import SideRun, TurnResult  # lazy: records are read where no runner exists

    side = SideRun(outcome.endpoint, turns=[TurnResult(outcome)])
    return {
        **header,
        "passed": side.passed,
        "reason": "" if side.passed else one_line(side.failure_text()),
        "pass_rate": float(side.passed),
        "min_pass_rate": 1.0,
        "repeats": 1,
        "checks": [],
        "runs": [_side_record(side)],
    }
