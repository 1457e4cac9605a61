"""Exam writing from the question bank (``fixtures/question_bank.yaml`` in this package), with a templated fallback."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import yaml

LETTERS = "abcd"
# Above this temperature the model "loses the format": merged lines and missing choices.
DEGRADE_TEMPERATURE = 0.7


@dataclass(frozen=True)
class BankQuestion:
    """One multiple-choice question; ``answers`` are letters a-d."""

    stem: str
    choices: tuple[str, str, str, str]
    answers: tuple[str, ...]


class QuestionBank:
    """Questions per (course, topic), looked up case-insensitively."""

    def __init__(self, topics: dict[tuple[str, str], list[BankQuestion]]) -> None:
        self._topics = topics

    @classmethod
    def load(cls, path: Path) -> QuestionBank:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        topics: dict[tuple[str, str], list[BankQuestion]] = {}
        for course in data["courses"]:
            for topic in course["topics"]:
                key = (course["title"].casefold(), topic["name"].casefold())
                topics[key] = [
                    BankQuestion(q["stem"], tuple(q["choices"]), tuple(q["answers"])) for q in topic["questions"]
                ]
        return cls(topics)

    def questions_for(self, course_title: str, course_topic: str) -> list[BankQuestion]:
        """The bank's questions for the topic (course title preferred, topic alone accepted), or []."""
        topic = course_topic.casefold().strip()
        exact = self._topics.get((course_title.casefold().strip(), topic))
        if exact:
            return list(exact)
        for (_, name), questions in sorted(self._topics.items()):
            if name == topic:
                return list(questions)
        return []


def _templated(course_title: str, topic: str, index: int) -> BankQuestion:
    templates = [
        (
            f"Which statement best describes the study of {topic} in {course_title}?",
            (
                f"It has nothing to do with {course_title}",
                f"It is a core area of {course_title}",
                "It is only studied in graduate school",
                "It was abandoned last century",
            ),
            ("b",),
        ),
        (
            f"Which of the following are good ways to learn about {topic}?",
            (
                "Reading the course notes",
                "Skipping every lecture",
                "Working through practice problems",
                "Guessing on every exam",
            ),
            ("a", "c"),
        ),
        (
            f"Which skill does a unit on {topic} mainly build?",
            ("Memorising phone numbers", "Typing speed", "Handwriting", f"Understanding of {topic}"),
            ("d",),
        ),
    ]
    stem, choices, answers = templates[index % len(templates)]
    return BankQuestion(stem, choices, answers)


def _rotate(question: BankQuestion, shift: int) -> BankQuestion:
    """A variant with the choices rotated; the answer letters follow their choices."""
    shift %= 4
    choices = question.choices[shift:] + question.choices[:shift]
    answers = tuple(sorted(LETTERS[(LETTERS.index(a) - shift) % 4] for a in question.answers))
    return BankQuestion(question.stem, choices, answers)  # type: ignore[arg-type]


def select_questions(
    bank: QuestionBank, course_title: str, course_topic: str, count: int, rng: random.Random
) -> list[BankQuestion]:
    """``count`` questions: the bank's in an rng order, then rotated variants, or templated ones."""
    pool = bank.questions_for(course_title, course_topic)
    if not pool:
        return [_templated(course_title, course_topic, i) for i in range(count)]
    rng.shuffle(pool)
    out: list[BankQuestion] = []
    round_ = 0
    while len(out) < count:
        for question in pool:
            if len(out) == count:
                break
            out.append(question if round_ == 0 else _rotate(question, round_))
        round_ += 1
    return out


def answer_line(answers: tuple[str, ...]) -> str:
    labels = [f"{a})" for a in answers]
    if len(labels) == 1:
        return f"Correct Answer: {labels[0]}"
    return f"Correct Answers: {', '.join(labels[:-1])} and {labels[-1]}"


def render_exam(questions: list[BankQuestion], temperature: float, rng: random.Random) -> str:
    """The exam text; above ``DEGRADE_TEMPERATURE`` the format visibly falls apart."""
    blocks: list[str] = []
    degraded = temperature > DEGRADE_TEMPERATURE
    for number, q in enumerate(questions, start=1):
        choice_texts = [f"{letter})  {text}" for letter, text in zip(LETTERS, q.choices, strict=True)]
        if not degraded:
            blocks.append("\n".join([f"{number}. {q.stem}", *choice_texts, answer_line(q.answers)]))
            continue
        kept = [c for c in choice_texts if rng.random() > 0.35] or choice_texts[:1]
        blocks.append(f"Question: {q.stem}\n{' '.join(kept)} {answer_line(q.answers)}")
    return ("\n" if degraded else "\n\n").join(blocks)
