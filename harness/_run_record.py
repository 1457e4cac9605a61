"""Plain-dict records of case results: what reports, run.json, summaries and baselines are built from.

Records are JSON-ready so they can travel from xdist workers to the controller on a test report.
"""

from __future__ import annotations

from typing import Any

from harness._outcome import Outcome
from harness._runner import CaseResult, SideRun

TEXT_LIMIT = 20_000


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    """What one endpoint delivered, with timings and problems."""
    text = outcome.text
    return {
        "endpoint": outcome.endpoint,
        "delivery": outcome.delivery,
        "status": outcome.status,
        "text": text[:TEXT_LIMIT] if text else text,
        "sources": outcome.sources,
        "metadata": outcome.metadata,
        "body": outcome.body,
        "started_at": outcome.timings.started_at,
        "total_s": outcome.timings.total_s,
        "ttft_s": outcome.timings.ttft_s,
        "ack_s": outcome.timings.ack_s,
        "problems": [{"kind": p.kind, "message": p.message} for p in outcome.problems],
        "request": outcome.request,
        "transcript": outcome.transcript,
    }


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
            }
            for turn in side.turns
        ],
    }


def part_record(result: CaseResult, part: str) -> dict[str, Any]:
    """One item's record: the case, the part (qa, prod, parity), pass rate and every run's detail."""
    case = result.case
    runs: list[dict[str, Any]] = []
    for run in result.runs:
        if part == "parity":
            parity = run.parity
            runs.append(
                {
                    "passed": bool(parity and parity.passed),
                    "blocked": parity.blocked if parity else None,
                    "reports": [
                        {
                            "level": r.level,
                            "passed": r.passed,
                            "summary": r.summary,
                            "text_diff": r.text_diff,
                            "json_diff": r.json_diff,
                            "similarity": r.similarity,
                            "threshold": r.threshold,
                            "noise": r.noise,
                        }
                        for r in (parity.reports if parity else [])
                    ],
                    "checks": [
                        {"name": c.name, "passed": c.passed, "message": c.message}
                        for c in (parity.checks if parity else [])
                    ],
                }
            )
        else:
            runs.append(_side_record(run.sides[part]))
    return {
        "case": case.key,
        "case_id": case.id,
        "file": case.file,
        "line": case.line,
        "service": case.service,
        "part": part,
        "passed": result.passed(part),
        "pass_rate": result.pass_rate(part),
        "min_pass_rate": case.min_pass_rate,
        "repeats": len(result.runs),
        "checks": [name for name, _ in case.checks],
        "runs": runs,
    }
