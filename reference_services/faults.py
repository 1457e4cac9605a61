"""Switchable faults: deliberate regressions the harness must catch.

Each fault produces one symptom on the endpoints named in ``FAULTS`` and nothing else. Faults are chosen
per app instance (``Settings.faults``), so a faulty and a healthy gateway can share a process.
"""

from __future__ import annotations

from collections.abc import Iterable

FAULTS: dict[str, str] = {
    "prod_drops_choices": "examgenerator prod: the a)-d) choice lines are stripped from the exam",
    "swap_temperature_top_p": "examgenerator prod: temperature and top_p are swapped, the exam format degrades",
    "unindexed_past_exams": "studycompanion prod+QA: past exams are not indexed, such questions get 'sorry'",
    "stream_mojibake": "studycompanion stream: UTF-8 text is re-decoded as cp1252 ('é' arrives as 'Ã©')",
    "stream_truncated": "studycompanion stream: stops part-way, without 'event: end' and 'data: [DONE]'",
    "qa_auth_disabled": "QA endpoints: a missing or wrong bearer token is accepted",
    "pii_leak": "prod endpoints: emails and phone numbers are not redacted",
    "callback_wrong_id": "examgenerator prod: the callback carries another callback-id",
    "callback_never": "examgenerator prod: no callback is ever sent",
    "callback_duplicate": "examgenerator prod: the callback is delivered twice",
    "error_parity": "QA endpoints: validation errors answer 500 instead of 422",
    "model_version_skew": "prod endpoints: report a different model_version than QA",
}


class UnknownFaultError(ValueError):
    """A fault name that is not in ``FAULTS``."""


def validate_faults(names: Iterable[str]) -> frozenset[str]:
    """Return the names as a frozenset, or raise ``UnknownFaultError`` listing the valid ones."""
    chosen = frozenset(name.strip() for name in names if name.strip())
    unknown = sorted(chosen - FAULTS.keys())
    if unknown:
        raise UnknownFaultError(
            f"unknown fault(s): {', '.join(unknown)}; valid faults are: {', '.join(sorted(FAULTS))}"
        )
    return chosen


def parse_fault_list(text: str) -> frozenset[str]:
    """Parse a comma-separated list such as ``"pii_leak,stream_truncated"``."""
    return validate_faults(text.split(","))


class FaultSet:
    """The faults active in one app instance; ``faults.on("pii_leak")`` asks whether one is active."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names = validate_faults(names)

    def on(self, name: str) -> bool:
        """True if fault ``name`` is active; a misspelt name is a programming error, not False."""
        if name not in FAULTS:
            raise UnknownFaultError(f"unknown fault {name!r}; valid faults are: {', '.join(sorted(FAULTS))}")
        return name in self._names

    @property
    def names(self) -> frozenset[str]:
        return self._names

    def __repr__(self) -> str:
        return f"FaultSet({sorted(self._names)!r})"
