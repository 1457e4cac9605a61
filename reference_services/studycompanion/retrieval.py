"""BM25 retrieval over the course materials in ``reference_services/fixtures/courses/<slug>/``.

A course folder holds ``_course.yaml`` (``title: ...``) and Markdown documents; a document's id is
``<slug>/<file stem>`` (``macro201/past-exam-1``). Documents are split into paragraphs; headings are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from rank_bm25 import BM25Okapi

from reference_services.prompts import Passage
from reference_services.terms import content_terms


@dataclass(frozen=True)
class Course:
    """A course and its paragraphs."""

    slug: str
    title: str
    chunks: tuple[Passage, ...]


def load_courses(courses_dir: Path) -> dict[str, Course]:
    """Courses by title."""
    courses: dict[str, Course] = {}
    for meta in sorted(courses_dir.glob("*/_course.yaml")):
        folder = meta.parent
        title = str(yaml.safe_load(meta.read_text(encoding="utf-8"))["title"])
        chunks: list[Passage] = []
        for doc in sorted(folder.glob("*.md")):
            doc_id = f"{folder.name}/{doc.stem}"
            for paragraph in doc.read_text(encoding="utf-8").split("\n\n"):
                lines = [ln for ln in paragraph.strip().splitlines() if ln.strip() and not ln.startswith("#")]
                if lines:
                    chunks.append(Passage(doc_id, " ".join(ln.strip() for ln in lines)))
        courses[title] = Course(folder.name, title, tuple(chunks))
    return courses


class CourseIndex:
    """One BM25 index per course; ``exclude_past_exams`` leaves ``*/past-exam*`` documents out."""

    def __init__(self, courses: dict[str, Course], *, exclude_past_exams: bool = False) -> None:
        self._indexes: dict[str, tuple[list[Passage], BM25Okapi]] = {}
        for title, course in courses.items():
            chunks = [c for c in course.chunks if not (exclude_past_exams and "/past-exam" in c.doc_id)]
            self._indexes[title] = (chunks, BM25Okapi([content_terms(c.text) or ["_"] for c in chunks]))

    @property
    def course_titles(self) -> list[str]:
        return sorted(self._indexes)

    def search(self, course: str, query: str, k: int) -> list[Passage]:
        """The ``k`` best paragraphs of ``course`` for ``query`` (only those with a positive score)."""
        chunks, bm25 = self._indexes[course]
        terms = content_terms(query)
        if not terms:
            return []
        scores = bm25.get_scores(terms)
        ranked = sorted(range(len(chunks)), key=lambda i: (-scores[i], i))
        return [chunks[i] for i in ranked[:k] if scores[i] > 0]
