"""Deterministic grading: the reference model scores an output by the rubric's required points.

A rubric names its required points in one of three ways, tried in this order:

1. quoted phrases: ``Must mention "current prices", "base-year prices" and "inflation".``
2. a list after a verb: ``The answer mentions unemployment, inflation and the CPI.`` (also *covers*,
   *names*, *includes*, *explains*, *states*, *defines*; the list runs to the end of the sentence)
3. bullet lines: ``- current prices``

A point is found when all its content terms (stemmed, stopwords dropped, as retrieval does) occur in the
output. The score is the share of points found, rounded to two decimals; the reason names the missing ones.
A rubric with no recognisable points is scored by the share of its own content terms the output contains.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from reference_services.prompts import GradingRequest
from reference_services.terms import content_terms

_QUOTED = re.compile(r"\"([^\"]+)\"|\u201c([^\u201d]+)\u201d|(?<!\w)'([^']+)'(?!\w)")
_LISTED = re.compile(
    r"\b(?:mention|cover|name|include|explain|state|define)(?:s|ing)?\b[ \t]*:?[ \t]*(?:that[ \t]+)?"
    r"(.+?)(?:[.;!?](?:\s|$)|$)",  # the list runs to the end of the sentence (or line)
    re.IGNORECASE | re.MULTILINE,
)
_LIST_SEPARATOR = re.compile(r",\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Verdict:
    """A grade: ``score`` in 0..1 and the reason for it."""

    score: float
    reason: str

    def to_json(self) -> str:
        """The grader's reply, ``{"score": ..., "reason": ...}``."""
        return json.dumps({"score": self.score, "reason": self.reason}, ensure_ascii=False)


def required_points(rubric: str) -> list[str]:
    """The points a rubric requires, as written in it (duplicates removed)."""
    quoted = [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(rubric)]
    listed = [part for m in _LISTED.finditer(rubric) for part in _LIST_SEPARATOR.split(m.group(1))]
    bullets = [m.group(1) for m in _BULLET.finditer(rubric)]
    for candidates in (quoted, listed, bullets):
        points = [p.strip() for p in candidates if content_terms(p)]
        if points:
            return list(dict.fromkeys(points))
    return []


def _listed(points: list[str]) -> str:
    return ", ".join(f"'{p}'" for p in points)


def grade(request: GradingRequest) -> Verdict:
    """Score ``request.output`` against ``request.rubric``."""
    found_terms = set(content_terms(request.output))
    points = required_points(request.rubric)
    if not points:
        wanted = list(dict.fromkeys(content_terms(request.rubric)))
        if not wanted:
            return Verdict(0.0, "the rubric names nothing to look for")
        hits = [t for t in wanted if t in found_terms]
        return Verdict(
            round(len(hits) / len(wanted), 2),
            f"the rubric lists no required points; the output shares {len(hits)} of its {len(wanted)} terms",
        )
    found = [p for p in points if set(content_terms(p)) <= found_terms]
    missing = [p for p in points if p not in found]
    score = round(len(found) / len(points), 2)
    if not missing:
        every = "the required point" if len(points) == 1 else f"all {len(points)} required points"
        return Verdict(score, f"covers {every}: {_listed(points)}")
    covered = f" (covers {_listed(found)})" if found else ""
    return Verdict(score, f"misses {len(missing)} of {len(points)} required points: {_listed(missing)}{covered}")
