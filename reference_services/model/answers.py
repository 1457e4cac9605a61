"""Extractive answering: the reference model answers only with sentences from its prompt's passages."""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

from reference_services.prompts import Passage
from reference_services.terms import content_terms

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"\u201c\u2018])")
MAX_SENTENCES = 5
_EXAM_QUESTION = re.compile(r"^Question \d+\.")

OPENERS = ("Great question!", "Good question!", "Happy to help with that.")
FOLLOW_UP_OPENERS = ("Great follow-up!", "Good follow-up question.", "Following on from that.")
LEAD_INS = ("Here is what the course materials say:", "From the course materials:", "According to the notes:")
# Only unseeded sampling adds a closing remark, so seeded replies read exactly as they always have.
CLOSERS = (
    "Hope that helps!",
    "Let me know if you would like a worked example.",
    "Feel free to ask a follow-up question.",
    "Does that make sense?",
    "Good luck with your studies!",
)
SORRY = (
    "Sorry, I can't find that in the course materials for {course}.",
    "I'm sorry, but I can't find that in the course materials for {course}.",
)
SORRY_TAIL = ("Try rephrasing the question, or ask your instructor.", "You may want to ask your instructor.")


@dataclass(frozen=True)
class _Sentence:
    text: str
    passage_rank: int
    position: int
    score: int


def _sentences(passage: Passage) -> list[str]:
    out: list[str] = []
    for line in passage.text.split("\n"):
        line = line.strip().lstrip("#").strip().removeprefix("- ").strip()
        if line:
            out.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return out


def required_overlap(question_terms: int) -> int:
    """How many question terms one sentence must contain to count as covering the question."""
    return max(2, min(4, math.ceil(question_terms / 2)))


def answer_from_passages(
    course: str, question: str, passages: list[Passage], *, follow_up: bool, rng: random.Random, vary: bool
) -> str:
    """An extractive answer, or a "sorry" reply when no sentence covers the question.

    ``vary`` (sampling without a seed) changes wording (opener, lead-in, a closing remark) and sentence
    order, never the substance.
    """
    wanted = set(content_terms(question))
    scored: list[_Sentence] = []
    for rank, passage in enumerate(passages):
        if _EXAM_QUESTION.match(passage.text):
            continue  # an exam question is not an answer
        for position, sentence in enumerate(_sentences(passage)):
            score = len(wanted & set(content_terms(sentence)))
            if score >= 2:
                scored.append(_Sentence(sentence, rank, position, score))
    if not scored or max(s.score for s in scored) < required_overlap(len(wanted)):
        return f"{rng.choice(SORRY).format(course=course)} {rng.choice(SORRY_TAIL)}"

    best = max(s.score for s in scored)
    chosen = sorted(scored, key=lambda s: (-s.score, s.passage_rank, s.position))
    chosen = [s for s in chosen if s.score >= best - 1][:MAX_SENTENCES]
    chosen.sort(key=lambda s: (s.passage_rank, s.position))
    if vary:
        rng.shuffle(chosen)
    opener = rng.choice(FOLLOW_UP_OPENERS if follow_up else OPENERS)
    lead_in = rng.choice(LEAD_INS)
    body = "\n\n".join(s.text for s in chosen)
    closer = f"\n\n{rng.choice(CLOSERS)}" if vary else ""
    return f"{opener} {lead_in}\n\n{body}{closer}"
