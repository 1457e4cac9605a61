"""The prompt protocol between the service cores and the model.

The cores talk to any OpenAI-compatible chat model, so prompts are ordinary natural-language messages.
They also carry a small machine-readable block that the embedded reference model (``reference_services.model``)
parses, which is how a tiny deterministic model can write exams and answer from passages:

Exam request (one ``user`` message, after a ``system`` message with the instructions)::

    <<<exam-request>>>
    course_title: Introduction to Biology
    course_topic: Cell Structure
    num_questions: 5
    <<<end>>>

Chat (``system`` message, then the conversation's earlier turns, then the new ``user`` message)::

    <<<course>>>Macroeconomics 201<<<end>>>
    <<<passage id=macro201/lecture-notes-gdp>>>
    ...passage text...
    <<<end>>>

Grading request (the ``llm_judge`` check of ``harness``; one ``user`` message after the grader's instructions;
the output runs to the last ``<<<end>>>``, so an output may itself contain the marker)::

    <<<grading-request>>>
    RUBRIC:
    Must mention "current prices", "base-year prices" and "inflation".

    REQUEST:
    {"course": "Macroeconomics 201", "message": "..."}

    OUTPUT:
    ...the text being graded...
    <<<end>>>

A real LLM reads the surrounding instructions; the reference model reads the blocks. The model must answer
only from the passages and say "sorry" when they do not cover the question, and grades by the rubric's
required points (see ``reference_services.model.grading``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EXAM_SYSTEM_PROMPT = (
    "You are examgenerator, a writer of multiple-choice exams. Write exactly the requested number of questions. "
    "Format each as 'N. question', then four choices on their own lines 'a)  ...' to 'd)  ...', then "
    "'Correct Answer: x)' (or 'Correct Answers: x) and y)' when two are correct), with a blank line between "
    "questions. Output the exam only."
)

CHAT_SYSTEM_PROMPT = (
    "You are studycompanion, a study assistant for one course. Answer ONLY from the course passages below, "
    "quoting them where you can. If the passages do not cover the question, reply that you are sorry and "
    "cannot find it in the course materials. Never invent facts."
)


@dataclass(frozen=True)
class ExamRequestBlock:
    """The parsed exam request."""

    course_title: str
    course_topic: str
    num_questions: int


@dataclass(frozen=True)
class Passage:
    """One retrieved passage, with the id of the document it came from."""

    doc_id: str
    text: str


def _one_line(text: str) -> str:
    return " ".join(text.split())


def build_exam_messages(course_title: str, course_topic: str, num_questions: int) -> list[dict[str, str]]:
    """The chat messages asking for an exam."""
    block = (
        "<<<exam-request>>>\n"
        f"course_title: {_one_line(course_title)}\n"
        f"course_topic: {_one_line(course_topic)}\n"
        f"num_questions: {num_questions}\n"
        "<<<end>>>"
    )
    return [
        {"role": "system", "content": EXAM_SYSTEM_PROMPT},
        {"role": "user", "content": f"Write the exam described below.\n{block}"},
    ]


_EXAM_BLOCK = re.compile(r"<<<exam-request>>>\n(.*?)\n<<<end>>>", re.S)


def parse_exam_request(text: str) -> ExamRequestBlock | None:
    """The exam request in a user message, or None."""
    match = _EXAM_BLOCK.search(text)
    if not match:
        return None
    fields = dict(line.split(": ", 1) for line in match.group(1).splitlines() if ": " in line)
    try:
        return ExamRequestBlock(fields["course_title"], fields["course_topic"], int(fields["num_questions"]))
    except (KeyError, ValueError):
        return None


def build_chat_system_message(course: str, passages: list[Passage]) -> dict[str, str]:
    """The system message carrying the course name and the retrieved passages."""
    parts = [CHAT_SYSTEM_PROMPT, "", f"<<<course>>>{course}<<<end>>>"]
    for passage in passages:
        parts.append(f"<<<passage id={passage.doc_id}>>>\n{passage.text}\n<<<end>>>")
    return {"role": "system", "content": "\n".join(parts)}


_COURSE = re.compile(r"<<<course>>>(.*?)<<<end>>>")
_PASSAGE = re.compile(r"<<<passage id=([^>]+)>>>\n(.*?)\n<<<end>>>", re.S)


def parse_chat_system_message(text: str) -> tuple[str, list[Passage]] | None:
    """The course name and passages in a chat system message, or None if it is not one."""
    course = _COURSE.search(text)
    if not course:
        return None
    return course.group(1), [Passage(m.group(1), m.group(2)) for m in _PASSAGE.finditer(text)]


@dataclass(frozen=True)
class GradingRequest:
    """The parsed grading request: the rubric and the output to grade against it."""

    rubric: str
    request: str
    output: str


# Rubric and request end at the first section header; the output runs to the last <<<end>>>.
_GRADING_BLOCK = re.compile(
    r"<<<grading-request>>>\nRUBRIC:\n(.*?)\n\nREQUEST:\n(.*?)\n\nOUTPUT:\n(.*)\n<<<end>>>", re.S
)


def parse_grading_request(text: str) -> GradingRequest | None:
    """The grading request in a user message, or None."""
    match = _GRADING_BLOCK.search(text)
    if not match:
        return None
    return GradingRequest(match.group(1).strip(), match.group(2).strip(), match.group(3))
