"""A tolerant parser for multiple-choice exam text.

The expected format::

    1. Which organelle generates ATP?
    a)  Nucleus
    b)  Endoplasmic Reticulum
    c)  Mitochondria
    d)  Golgi Apparatus
    Correct Answer: c)

    2. The cell wall is a feature of which cell(s)?
    ...
    Correct Answers: b) and d)

The parser recovers the structure from degraded text too (choices or the answer merged onto one line,
``(a)`` / ``A.`` labels, missing blank lines, missing choices) and lists every departure from the format in
``ParsedExam.errors``, so ``exam_format`` can be strict while ``choices_present`` and friends judge substance.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

EXPECTED_LABELS: tuple[str, ...] = ("a", "b", "c", "d")

_QUESTION = re.compile(r"^\s*(?:Q(?:uestion)?\s*)?(\d{1,3})\s*[.):]\s*(\S.*)?$", re.IGNORECASE)
_QUESTION_STRICT = re.compile(r"^\d+\. \S")
_CHOICE = re.compile(r"^\s*(?:\(([a-hA-H])\)|([a-hA-H])[).])\s*(.*)$")
_CHOICE_STRICT = re.compile(r"^[a-h]\) ")
_ANSWER = re.compile(r"^\s*[*_]*\s*Correct\s+Answers?\s*[*_]*\s*[:\-]\s*[*_]*(.*)$", re.IGNORECASE)
_ANSWER_INLINE = re.compile(r"[*_]*Correct\s+Answers?\s*[*_]*\s*[:\-]", re.IGNORECASE)
_ANSWER_STRICT_ONE = re.compile(r"^Correct Answer: [a-h]\)$")
_ANSWER_STRICT_MANY = re.compile(r"^Correct Answers: [a-h]\)(?:, [a-h]\))* and [a-h]\)$")
_INLINE_CHOICE = re.compile(r"(?:(?<=\s)|^)\(?([a-hA-H])\)\s")
_LABEL_PAREN = re.compile(r"\(?\b([a-hA-H])\)")
_LABEL_BARE = re.compile(r"\b([a-hA-H])\b")


@dataclass
class ExamQuestion:
    """One question as parsed; line numbers are 1-based lines of the original text."""

    number: int
    stem: str
    line: int
    choices: dict[str, str] = field(default_factory=dict)
    """Label (lower case) -> choice text, in the order they appeared."""
    choice_lines: dict[str, int] = field(default_factory=dict)
    answers: list[str] = field(default_factory=list)
    """Labels named by the answer line (lower case)."""
    answer_line: int | None = None
    answer_text: str | None = None
    """The answer line as written, e.g. ``Correct Answers: b) and d)``."""

    def label_range(self) -> str:
        """``a-d``, ``a, c`` or ``none``: the choice labels in short form."""
        labels = list(self.choices)
        if not labels:
            return "none"
        if len(labels) > 2 and labels == [chr(ord(labels[0]) + i) for i in range(len(labels))]:
            return f"{labels[0]}-{labels[-1]}"
        return ", ".join(labels)


@dataclass
class FormatError:
    """One departure from the exam format."""

    message: str
    line: int | None = None
    question: int | None = None

    def __str__(self) -> str:
        where = []
        if self.question is not None:
            where.append(f"question {self.question}")
        if self.line is not None:
            where.append(f"line {self.line}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class ParsedExam:
    """Questions recovered from exam text and the format errors found on the way."""

    questions: list[ExamQuestion]
    errors: list[FormatError]
    preamble: list[str] = field(default_factory=list)
    """Non-blank lines before the first question."""

    @property
    def is_exam(self) -> bool:
        """True when at least one numbered question was found."""
        return bool(self.questions)

    def question(self, number: int) -> ExamQuestion | None:
        """The first question numbered ``number``, if any."""
        return next((q for q in self.questions if q.number == number), None)


@dataclass
class _Piece:
    text: str
    line: int
    merged: bool


def _next_label(label: str) -> str:
    return chr(ord(label.lower()) + 1)


def _split_line(text: str, line: int) -> list[_Piece]:
    """Split one physical line where choices or the answer were merged onto it."""
    if _ANSWER.match(text):
        return [_Piece(text, line, False)]  # its labels, e.g. "a) and c)", are not choices
    parts: list[str] = []
    rest = text
    answer_at = _ANSWER_INLINE.search(rest)
    tail: str | None = None
    if answer_at and rest[: answer_at.start()].strip():
        tail = rest[answer_at.start() :]
        rest = rest[: answer_at.start()]
    first = _CHOICE.match(rest)
    # A choice line continues with the next label; any other line's inline choices start at a).
    expected = _next_label(first.group(1) or first.group(2)) if first else "a"
    cuts = [0]
    for marker in _INLINE_CHOICE.finditer(rest):
        if marker.start() == 0 or marker.start() <= cuts[-1]:
            continue
        if marker.group(1).lower() == expected:
            cuts.append(marker.start())
            expected = _next_label(expected)
    cuts.append(len(rest))
    parts = [rest[a:b] for a, b in itertools.pairwise(cuts) if rest[a:b].strip()]
    if tail is not None:
        parts.append(tail)
    if not parts:
        return [_Piece(text, line, False)]
    return [_Piece(p.strip() if i else p.rstrip(), line, i > 0) for i, p in enumerate(parts)]


def _answer_labels(rest: str) -> list[str]:
    labels = [m.group(1).lower() for m in _LABEL_PAREN.finditer(rest)]
    if not labels and len(rest.strip()) <= 15:
        labels = [m.group(1).lower() for m in _LABEL_BARE.finditer(rest)]
    return list(dict.fromkeys(labels))


def parse_exam(text: str) -> ParsedExam:
    """Parse exam text into questions, choices and answer keys, listing format errors."""
    questions: list[ExamQuestion] = []
    errors: list[FormatError] = []
    preamble: list[str] = []
    current: ExamQuestion | None = None
    blank_before = True
    blank_inside_reported = False
    merged_lines: set[int] = set()

    def error(message: str, line: int | None = None) -> None:
        errors.append(FormatError(message, line, current.number if current else None))

    for line_no, physical in enumerate(text.splitlines(), start=1):
        if not physical.strip():
            blank_before = True
            if current is not None and current.answer_line is None and not blank_inside_reported:
                error("blank line inside the question (expected one only between questions)", line_no)
                blank_inside_reported = True
            continue
        for piece in _split_line(physical, line_no):
            if piece.merged and line_no not in merged_lines:
                merged_lines.add(line_no)
                errors.append(
                    FormatError(
                        f"several items share one line (expected stem, each choice and the answer "
                        f"on lines of their own): {physical.strip()[:70]!r}",
                        line_no,
                        current.number if current else None,
                    )
                )
            q_match = _QUESTION.match(piece.text)
            a_match = _ANSWER.match(piece.text)
            c_match = _CHOICE.match(piece.text) if current is not None else None
            if a_match and current is not None:
                if current.answer_line is not None:
                    error("a second answer line", piece.line)
                current.answer_line = piece.line
                current.answer_text = piece.text.strip()
                current.answers = _answer_labels(a_match.group(1))
            elif c_match and current is not None and not (q_match and current.answer_line is not None):
                label = (c_match.group(1) or c_match.group(2)).lower()
                if current.answer_line is not None:
                    error(f"choice {label}) after the answer line", piece.line)
                if label in current.choices:
                    error(f"choice {label}) appears twice", piece.line)
                elif not _CHOICE_STRICT.match(piece.text):
                    error(f"choice label written {piece.text.strip()[:4]!r}, expected '{label})'", piece.line)
                current.choices[label] = c_match.group(3).strip()
                current.choice_lines[label] = piece.line
            elif q_match:
                if current is None and preamble:
                    errors.append(FormatError(f"text before question 1: {preamble[0][:60]!r}", 1))
                current = ExamQuestion(int(q_match.group(1)), (q_match.group(2) or "").strip(), piece.line)
                questions.append(current)
                blank_inside_reported = False
                if not blank_before and len(questions) > 1:
                    error("no blank line before the question", piece.line)
                if not _QUESTION_STRICT.match(piece.text):
                    error(f"question written {piece.text.strip()[:12]!r}, expected 'N. stem'", piece.line)
            elif current is None:
                preamble.append(piece.text.strip())
            elif current.answer_line is not None:
                error(f"unexpected text after the answer line: {piece.text.strip()[:60]!r}", piece.line)
            elif current.choices:
                last = list(current.choices)[-1]
                error(f"unexpected text after choice {last}): {piece.text.strip()[:60]!r}", piece.line)
                current.choices[last] = f"{current.choices[last]} {piece.text.strip()}".strip()
            else:
                current.stem = f"{current.stem} {piece.text.strip()}".strip()
            blank_before = False

    if not questions:
        errors.append(FormatError("no numbered questions found (expected lines like '1. stem')"))
        if preamble:
            errors[-1].message += f"; text starts {preamble[0][:60]!r}"
    for index, question in enumerate(questions, start=1):
        errors.extend(_question_errors(question, index))
    errors.sort(key=lambda e: e.line if e.line is not None else 10**9)
    return ParsedExam(questions, errors, preamble)


def _question_errors(q: ExamQuestion, index: int) -> list[FormatError]:
    found: list[FormatError] = []

    def error(message: str, line: int | None) -> None:
        found.append(FormatError(message, line, q.number))

    if q.number != index:
        error(f"numbered {q.number}, expected {index} (questions are numbered 1..N consecutively)", q.line)
    if not q.stem:
        error("empty question stem", q.line)
    labels = tuple(q.choices)
    if not labels:
        error("no choices (expected a) to d))", q.line)
    elif labels != EXPECTED_LABELS:
        shown = ", ".join(f"{label})" for label in labels)
        error(f"choices {shown}, expected a), b), c), d) in order", q.line)
    for label, choice in q.choices.items():
        if not choice:
            error(f"choice {label}) is empty", q.choice_lines.get(label))
    if q.answer_line is None:
        error("no answer line (expected 'Correct Answer: c)' or 'Correct Answers: b) and d)')", q.line)
    elif not q.answers:
        error(f"answer line names no choice: {q.answer_text!r}", q.answer_line)
    else:
        strict = _ANSWER_STRICT_ONE if len(q.answers) == 1 else _ANSWER_STRICT_MANY
        if not strict.match(q.answer_text or ""):
            expected = _answer_line_for(q.answers)
            error(f"answer line {q.answer_text!r}, expected {expected!r}", q.answer_line)
    return found


def _answer_line_for(labels: list[str]) -> str:
    rendered = [f"{label})" for label in labels]
    if len(rendered) == 1:
        return f"Correct Answer: {rendered[0]}"
    return f"Correct Answers: {', '.join(rendered[:-1])} and {rendered[-1]}"
