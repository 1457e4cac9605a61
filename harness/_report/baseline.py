"""Baselines: a saved run record, and the regressions of a later run against it."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness._errors import HarnessUsageError
from harness._report.run import RUN_FORMAT, parts

if TYPE_CHECKING:
    from harness._delivery._outcome import Outcome
    from harness._verdict._similarity import TextSimilarity

LATENCY_FLOOR_S = 0.1
"""Slowdowns smaller than this never count as regressions: in-process timings are milliseconds of noise."""


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
    run: dict[str, Any], baseline: dict[str, Any], *, latency_tolerance: float = 0.5
) -> list[Regression]:
    """Regressions of ``run`` against ``baseline``: parts that passed and now fail, and slowdowns.

    A part counts as slower when its median latency grew by more than ``latency_tolerance`` (a fraction)
    and by at least ``LATENCY_FLOOR_S``. Parts missing from either run (deselected, new) are not compared.
    """
    before = {(c["case"], part): e for c, part, e in parts(baseline)}
    regressions = []
    for case, part, entry in parts(run):
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


@dataclass(frozen=True)
class Drift:
    """An answer that changed beyond noise since the baseline: the case part, the verdict and the diffs."""

    case: str
    part: str
    level: str
    summary: str
    text_diff: str = ""
    json_diff: str = ""

    def line(self) -> str:
        """One terminal line."""
        return f"drift: {self.case} [{self.part}]: {self.level}: {self.summary}"


@dataclass(frozen=True)
class DriftReport:
    """Every answer compared with the baseline's, and those that drifted."""

    compared: int
    drifted: list[Drift]

    def headline(self) -> str:
        """``12 of 240 answers changed beyond noise``."""
        return f"{len(self.drifted)} of {self.compared} answers changed beyond noise"

    def as_dict(self) -> dict[str, Any]:
        """The ``baseline.drift`` section of run.json."""
        return {"compared": self.compared, "drifted": [d.__dict__ for d in self.drifted]}


def compare_answers(
    run: dict[str, Any],
    baseline: dict[str, Any],
    embed: Callable[[list[str]], TextSimilarity] | None = None,
) -> DriftReport:
    """Each QA and prod answer of ``run`` against the baseline's, at the case's level and within its noise.

    A part's ``compare`` key (its golden output's level, threshold and ignored paths, else its parity's) says how;
    turn by turn of the first repeat. Answers missing on either side (not delivered, deselected, new) are not
    compared: a part that stopped delivering is a regression already. ``embed(texts)`` gives the similarity
    ``semantic`` answers are judged by, all of them embedded at once (None, or an ``EmbeddingError``: lexical).
    """
    from harness._verdict._golden import compare_with_baseline_output, outcome_from_record  # lazy: parity is heavy
    from harness._verdict._parity import comparable_text

    before = {(c["case"], part): e for c, part, e in parts(baseline)}
    pairs: list[tuple[str, str, dict[str, Any], Outcome, Outcome]] = []
    for case, part, entry in parts(run):
        how = entry.get("compare")
        old = before.get((case["case"], part))
        if part == "parity" or how is None or old is None:
            continue
        for then, latest in zip(_answers(old), _answers(entry), strict=False):
            pairs.append((case["case"], part, how, outcome_from_record(then), outcome_from_record(latest)))
    similarity = None
    texts = [
        comparable_text(o) for *_, how, old_o, new_o in pairs if how["level"] == "semantic" for o in (old_o, new_o)
    ]
    if embed is not None and texts:
        from harness._verdict._embeddings import EmbeddingError

        try:
            similarity = embed(texts)
        except EmbeddingError:
            similarity = None  # judged lexically; each summary names the judge
    drifted: list[Drift] = []
    for case_key, part, how, was, now in pairs:
        report = compare_with_baseline_output(
            was,
            now,
            level=how["level"],
            threshold=how["threshold"],
            ignore=list(how.get("ignore", [])),
            similarity=similarity,
        )
        if not report.passed:
            drifted.append(Drift(case_key, part, report.level, report.summary, report.text_diff, report.json_diff))
    return DriftReport(len(pairs), drifted)


def _answers(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The outcome records of a part's first repeat, one per turn, while each turn was answered."""
    runs = entry.get("runs") or []
    turns = runs[0].get("turns", []) if runs else []
    answered = []
    for turn in turns:
        outcome = turn.get("outcome") or {}
        if outcome.get("status") is None:
            break
        answered.append(outcome)
    return answered
