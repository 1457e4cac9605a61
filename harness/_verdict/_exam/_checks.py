"""Checks on multiple-choice exam text (format, question count, choices, answer key, answer leaks), and what
structural parity compares of two exams. Written against the public check API, as a user's extension is."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from harness._errors import CheckFailed
from harness._report.excerpts import head, limited, numbers
from harness._verdict._checks._registry import CheckContext, check
from harness._verdict._exam._parser import ExamQuestion, ParsedExam, parse_exam
from harness._verdict._structures import register_text_structure

_NULL: dict[str, Any] = {"type": "null"}


def _parsed(ctx: CheckContext) -> ParsedExam:
    text = ctx.require_text()
    exam = parse_exam(text)
    if not exam.is_exam:
        raise CheckFailed(f"expected an exam with numbered questions, got no questions in {head(text)}")
    return exam


@check("exam_format", arg_schema=_NULL)
def check_exam_format(ctx: CheckContext, arg: Any) -> None:
    """The text follows the exam format: 1..N, choices a)-d), an answer line, blank lines between."""
    text = ctx.require_text()
    exam = parse_exam(text)
    if exam.errors:
        raise CheckFailed(
            f"exam format: {len(exam.errors)} problem(s) in {len(exam.questions)} question(s):\n  "
            + limited([str(e) for e in exam.errors])
        )


@check(
    "question_count",
    arg_schema={"oneOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
)
def check_question_count(ctx: CheckContext, arg: Any) -> None:
    """The exam has the requested number of questions (arg, or ``num_questions`` from the request)."""
    expected = arg
    if expected is None:
        if not isinstance(ctx.input, dict) or not isinstance(ctx.input.get("num_questions"), int):
            raise CheckFailed(
                "question_count needs a number: give one (question_count: 5) or send num_questions in the input"
            )
        expected = ctx.input["num_questions"]
    exam = parse_exam(ctx.require_text())
    got = [q.number for q in exam.questions]
    if len(got) != expected:
        listed = f" (numbered {numbers(got)})" if got else ""
        raise CheckFailed(f"expected {expected} questions, got {len(got)}{listed}")


@check(
    "choices_present",
    arg_schema={"oneOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
)
def check_choices_present(ctx: CheckContext, arg: Any) -> None:
    """Every question has its choices (at least ``arg``, default 4)."""
    minimum = 4 if arg is None else arg
    exam = _parsed(ctx)
    without = [q.number for q in exam.questions if not q.choices]
    short = [q for q in exam.questions if q.choices and len(q.choices) < minimum]
    problems = []
    if without:
        problems.append(
            f"{len(without)} of {len(exam.questions)} questions have no choices: question(s) {numbers(without)}"
        )
    problems.extend(
        f"question {q.number} has {len(q.choices)} choice(s) ({q.label_range()}), expected at least {minimum}"
        for q in short
    )
    if problems:
        raise CheckFailed("choices missing: " + "; ".join(problems))


@check("answer_key_valid", arg_schema=_NULL)
def check_answer_key_valid(ctx: CheckContext, arg: Any) -> None:
    """Every question has an answer line whose labels name existing choices."""
    exam = _parsed(ctx)
    problems: list[str] = []
    for q in exam.questions:
        if q.answer_line is None:
            problems.append(f"question {q.number} (line {q.line}): no answer line")
        elif not q.answers:
            problems.append(f"question {q.number} (line {q.answer_line}): {q.answer_text!r} names no choice")
        else:
            unknown = [label for label in q.answers if label not in q.choices]
            if unknown:
                names = ", ".join(f"{label})" for label in unknown)
                problems.append(
                    f"question {q.number} (line {q.answer_line}): answer {names} names no choice "
                    f"(choices: {q.label_range()})"
                )
    if problems:
        raise CheckFailed("answer key invalid:\n  " + limited(problems))


_LEAK_MARKERS = re.compile(r"correct\s+answers?|\(correct\)|\[correct\]|✓|✔", re.IGNORECASE)
_CATCH_ALL = re.compile(r"^(all|none|both|neither) of the (above|following)$|^all$|^none$")


def _words(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.findall(r"\w+", folded))


def _contains_phrase(haystack: str, phrase: str) -> bool:
    return bool(phrase) and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", haystack) is not None


def _leaks(q: ExamQuestion) -> list[str]:
    found: list[str] = []
    marker = _LEAK_MARKERS.search(q.stem)
    if marker:
        found.append(f"question {q.number} (line {q.line}): stem contains {marker.group(0)!r}")
    for label, choice in q.choices.items():
        marker = _LEAK_MARKERS.search(choice)
        if marker:
            line = q.choice_lines.get(label)
            found.append(f"question {q.number} (line {line}): choice {label}) contains {marker.group(0)!r}")
    stem = _words(q.stem)
    wrong = [_words(text) for label, text in q.choices.items() if label not in q.answers]
    # The stem naming the right choice gives it away, unless it names the wrong ones as well
    # (then it is just listing the options).
    if any(_contains_phrase(stem, w) for w in wrong if len(w) >= 3):
        return found
    for label in q.answers:
        phrase = _words(q.choices.get(label, ""))
        if len(phrase) >= 3 and not _CATCH_ALL.match(phrase) and _contains_phrase(stem, phrase):
            found.append(
                f"question {q.number} (line {q.line}): the stem gives away the answer {label}) {q.choices[label]!r}"
            )
    return found


@check("no_answer_leak", arg_schema=_NULL)
def check_no_answer_leak(ctx: CheckContext, arg: Any) -> None:
    """No stem gives away its answer, and no stem or choice carries a "Correct Answer" marker."""
    exam = _parsed(ctx)
    leaks = [leak for q in exam.questions for leak in _leaks(q)]
    if leaks:
        raise CheckFailed("answer leaked:\n  " + limited(leaks))


# ---------------------------------------------------------------- structural parity of two exams


def exam_differences(qa_text: str, prod_text: str) -> list[str]:
    qa_exam, prod_exam = parse_exam(qa_text), parse_exam(prod_text)
    if not qa_exam.is_exam and not prod_exam.is_exam:
        return []
    if not (qa_exam.is_exam and prod_exam.is_exam):
        exam, side, other = (qa_exam, "qa", "prod") if qa_exam.is_exam else (prod_exam, "prod", "qa")
        return [f"{side} text is an exam with {len(exam.questions)} questions, {other} text has no numbered questions"]
    problems: list[str] = []
    if len(qa_exam.questions) != len(prod_exam.questions):
        problems.append(f"qa has {len(qa_exam.questions)} questions, prod has {len(prod_exam.questions)}")
    # The same difference on many questions (say, every question lost its choices) reads best as one item.
    grouped: dict[str, list[int]] = {}
    for q, p in zip(qa_exam.questions, prod_exam.questions, strict=False):
        for difference in _question_differences(q, p):
            grouped.setdefault(difference, []).append(q.number)
    for difference, question_numbers in grouped.items():
        label = "question" if len(question_numbers) == 1 else "questions"
        problems.append(f"{label} {_number_ranges(question_numbers)}: {difference}")
    return problems


def _question_differences(q: ExamQuestion, p: ExamQuestion) -> list[str]:
    found = []
    if list(q.choices) != list(p.choices):
        found.append(f"qa has choices {q.label_range()}, prod has {p.label_range()}")
    if sorted(q.answers) != sorted(p.answers):
        qa_key = ", ".join(f"{a})" for a in q.answers) or "none"
        prod_key = ", ".join(f"{a})" for a in p.answers) or "none"
        found.append(f"qa answer {qa_key}, prod answer {prod_key}")
    return found


def _number_ranges(numbers: list[int]) -> str:
    """``1-3, 7`` for [1, 2, 3, 7]."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def describe_exam(text: str) -> str | None:
    """``5 questions`` for an exam; None for other text."""
    exam = parse_exam(text)
    return f"{len(exam.questions)} questions" if exam.is_exam else None


register_text_structure("exam", exam_differences, describe_exam)
