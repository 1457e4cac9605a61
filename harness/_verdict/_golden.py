"""Golden outputs: an endpoint's output against the one a case was recorded with, and against a baseline's.

Both comparisons are parity's (``compare``) with the known-good output on one side, labelled ``golden``
(or ``baseline``), so the levels, the error-answer rules and the diffs are the same as QA against prod.
The known-good side has no delivery of its own: bodies are compared across envelopes as parity compares a
callback payload with a sync response (types at shared keys, not key sets).
"""

from __future__ import annotations

from typing import Any

from harness._delivery._outcome import Outcome
from harness._model._case import GoldenOutput
from harness._verdict import _checks  # noqa: F401  # before _parity: the registry loads first (import cycle)
from harness._verdict._parity import ParityReport, compare
from harness._verdict._similarity import TextSimilarity

GOLDEN_DELIVERY = "golden"
"""The delivery of a known-good outcome: never equal to an endpoint's, so envelopes are not compared."""


def golden_outcome(golden: GoldenOutput, metadata: dict[str, Any] | None = None) -> Outcome:
    """The golden output as an ``Outcome`` (a missing status counts as 200).

    A golden output keeps no metadata (a model version is expected to change): ``metadata`` is the compared
    outcome's, so the diff shows only what the golden output says.
    """
    return Outcome(
        endpoint="golden",
        delivery=GOLDEN_DELIVERY,
        status=golden.status if golden.status is not None else 200,
        body=golden.body,
        text=golden.text,
        sources=golden.sources,
        metadata=dict(metadata or {}),
    )


def compare_golden(golden: GoldenOutput, outcome: Outcome, *, similarity: TextSimilarity | None = None) -> ParityReport:
    """``outcome`` against the golden output at the golden's level, threshold and ignored paths."""
    return compare(
        golden.level,
        golden_outcome(golden, outcome.metadata),
        outcome,
        threshold=golden.threshold,
        ignore_paths=golden.ignore,
        similarity=similarity,
        labels=("golden", outcome.endpoint),
    )


def outcome_from_record(record: dict[str, Any]) -> Outcome:
    """An ``Outcome`` back from its run-record form (``records.outcome_record``): what a baseline kept."""
    return Outcome(
        endpoint=str(record.get("endpoint") or ""),
        delivery=str(record.get("delivery") or ""),
        status=record.get("status"),
        body=record.get("body"),
        text=record.get("text"),
        sources=record.get("sources"),
        metadata=dict(record.get("metadata") or {}),
    )


def compare_with_baseline_output(
    before: Outcome,
    now: Outcome,
    *,
    level: str,
    threshold: float,
    ignore: list[str],
    similarity: TextSimilarity | None = None,
) -> ParityReport:
    """A baseline's answer against this run's, at ``level`` (``semantic``: ``similarity``, else lexical)."""
    before.delivery = GOLDEN_DELIVERY  # the same endpoint on both sides; only the output is compared
    return compare(
        level,  # type: ignore[arg-type]  # validated where the record was written
        before,
        now,
        threshold=threshold,
        ignore_paths=ignore,
        similarity=similarity,
        labels=("baseline", "now"),
    )
