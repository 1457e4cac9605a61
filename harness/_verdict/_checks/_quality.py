"""Checks on text quality: mojibake (mis-decoded UTF-8) and personal data (emails, phone numbers)."""

from __future__ import annotations

import re
from typing import Any

from harness._errors import CheckFailed
from harness._report.excerpts import excerpt, first_difference
from harness._verdict._checks._registry import CheckContext, check


@check("no_mojibake", arg_schema={"type": "null"}, imports=("ftfy", "ftfy.badness"))
def check_no_mojibake(ctx: CheckContext, arg: Any) -> None:
    """No U+FFFD and no text that reads as UTF-8 decoded with the wrong codec (e.g. "cafÃ©")."""
    text = ctx.require_text()
    at = text.find("\ufffd")
    if at >= 0:
        count = text.count("\ufffd")
        raise CheckFailed(
            f"expected clean text, found {count} replacement character(s) U+FFFD (bytes that were not "
            f"valid UTF-8), first at offset {at}: {excerpt(text, at, at + 1)}"
        )
    import ftfy  # lazy: only runs naming no_mojibake need it
    from ftfy import badness

    # fix_encoding only undoes mis-decoding (unlike fix_text, which also uncurls quotes and the like),
    # so a change means mojibake; is_bad catches sequences ftfy recognises but cannot repair.
    fixed = ftfy.fix_encoding(text)
    if fixed != text:
        start = first_difference(text, fixed)
        # Repair only a window around the first bad spot, so the message shows one short before/after pair.
        lo, hi = max(0, start - 15), min(len(text), start + 20)
        window = text[lo:hi]
        shown = f"«{'…' if lo else ''}{window}{'…' if hi < len(text) else ''}»".replace("\n", "⏎")
        repaired = shown.replace(window.replace("\n", "⏎"), ftfy.fix_encoding(window).replace("\n", "⏎"))
        raise CheckFailed(
            f"expected correctly decoded text, found mis-encoded UTF-8 at offset {start}: "
            f"{shown} should read {repaired}"
        )
    if badness.is_bad(text):
        match = badness.BADNESS_RE.search(text)
        where = f" at offset {match.start()}: {excerpt(text, match.start(), match.end())}" if match else ""
        raise CheckFailed(f"expected correctly decoded text, found mojibake-like sequences{where}")


_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONES = (
    # International: +CC then digit groups.
    re.compile(r"(?<![\w+])\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){2,4}(?![\w])"),
    # North American: (555) 123-4567, 555-123-4567, 555.123.4567.
    re.compile(r"(?<![\w(])(?:\(\d{3}\)\s?|\d{3}[.-])\d{3}[.-]\d{4}(?![\w])"),
    # National with trunk prefix 0: 020 7946 0958, 030-12345678.
    re.compile(r"(?<![\w.,])(?<!\d[\s.,])0[1-9]\d{1,3}[\s-]\d{3,8}(?:[\s-]\d{3,4})?(?![\w.,])"),
)


def pii_spans(text: str) -> list[tuple[int, int, str]]:
    """Email addresses and phone numbers in ``text``: ``(start, end, kind)``, in order, never overlapping."""
    found = [(m.start(), m.end(), "email address") for m in _EMAIL.finditer(text)]
    taken: list[tuple[int, int]] = [(start, end) for start, end, _ in found]
    for pattern in _PHONES:
        for match in pattern.finditer(text):
            value = match.group(0)
            overlaps = any(match.start() < end and start < match.end() for start, end in taken)
            if not overlaps and 7 <= _digits(value) <= 15:
                taken.append(match.span())
                found.append((match.start(), match.end(), "phone number"))
    return sorted(found)


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _mask(value: str) -> str:
    """Keep the ends so a report shows what was found without repeating the personal data."""
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


@check(
    "no_pii",
    arg_schema={
        "oneOf": [
            {"type": "null"},
            {
                "type": "object",
                "properties": {"allow": {"type": "array", "items": {"type": "string"}}},
                "additionalProperties": False,
            },
        ]
    },
)
def check_no_pii(ctx: CheckContext, arg: Any) -> None:
    """No email addresses or phone numbers (redaction markers are fine; arg {allow: [...]} exempts values)."""
    text = ctx.require_text()
    allowed = set((arg or {}).get("allow", []))
    found = [
        (start, kind, value)
        for start, end, kind in pii_spans(text)
        if (value := text[start:end].strip()) not in allowed
    ]
    if found:
        listed = "; ".join(f"{kind} {_mask(value)} at offset {at}" for at, kind, value in found[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        raise CheckFailed(f"expected no personal data, found {len(found)}: {listed}{more}")
