"""Shared post-processing: exam format normalisation and PII redaction.

Redaction patterns never match across whitespace boundaries in a way that depends on text after a
space or newline, so redacting a stream piece by piece (cut after whitespace) equals redacting the whole.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Separators are single characters, so a match never contains ". " or a newline.
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}(?!\w)")
REDACTED_EMAIL = "[redacted email]"
REDACTED_PHONE = "[redacted phone]"

_CHOICE_LINE = re.compile(r"^([a-dA-D])\)[ \t]*(?=\S)")
_QUESTION_LINE = re.compile(r"^\d+\.\s")
_ANSWER_LINE = re.compile(r"^Correct Answers?:", re.I)


def redact_pii(text: str) -> str:
    """Replace email addresses and phone numbers with placeholders."""
    return PHONE.sub(REDACTED_PHONE, EMAIL.sub(REDACTED_EMAIL, text))


def normalize_exam(text: str) -> str:
    """Normalise exam whitespace: trimmed lines, ``a)  `` labels, exactly one blank line between questions.

    It fixes layout only; it never invents missing choices or splits merged lines, so a degraded model
    output stays visibly degraded.
    """
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        line = _CHOICE_LINE.sub(lambda m: f"{m.group(1).lower()})  ", line)
        line = re.sub(r"[ \t]{3,}", "  ", line)
        if _QUESTION_LINE.match(line) and out:
            out.append("")
        out.append(line)
    return "\n".join(out)


def strip_choice_lines(text: str) -> str:
    """Remove the ``a)``-``d)`` choice lines (the ``prod_drops_choices`` fault)."""
    return "\n".join(line for line in text.split("\n") if not _CHOICE_LINE.match(line))


def is_answer_line(line: str) -> bool:
    """True for 'Correct Answer: c)' and 'Correct Answers: b) and d)'."""
    return bool(_ANSWER_LINE.match(line))
