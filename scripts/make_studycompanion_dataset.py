"""Generate ``cases/studycompanion/questions.jsonl``: questions with the sources and words their answers must have.

Each candidate asks about two or three content words of one sentence of the reference course materials
(``reference_services/fixtures/courses``); it expects that sentence's document among the retrieved sources
and, in the answer, words of that sentence the question does not give away. The reference model answers
extractively from retrieved sentences, so a good question gets its sentence back.

Every candidate is then verified by running ``cases/studycompanion/dataset.yaml`` through pytest against the
in-process reference services, both endpoints and their parity. A row that does not pass is dropped with its
reason; the survivors are written and run once more, which must pass completely.

    python scripts/make_studycompanion_dataset.py [--rows 240]
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reference_services.settings import FIXTURES_DIR
from reference_services.studycompanion.retrieval import load_courses
from reference_services.terms import STOPWORDS, content_terms

ROOT = Path(__file__).resolve().parents[1]
CASE_FILE = ROOT / "cases" / "studycompanion" / "dataset.yaml"
DATASET = CASE_FILE.with_name("questions.jsonl")

# Filler words are stopwords, so a question's content terms are the chosen words only.
PAIR_TEMPLATES = (
    "What about {a} and {b}?",
    "Can you explain {a} and {b}?",
    "Tell me about {a} and {b}.",
    "What does {a} have to do with {b}?",
    "How are {a} and {b} connected?",
)
TRIPLE_TEMPLATES = ("Can you explain {a}, {b} and {c}?", "What about {a}, {b} and {c}?")
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")
# Contact details are redacted in replies; they make no good required words.
_SKIP_SENTENCE = re.compile(r"@|\(\d{3}\)")


def words_of(sentence: str) -> list[str]:
    """Distinct content words of a sentence, lowercased, in order (no short words, no stopwords)."""
    out: list[str] = []
    for match in _WORD.finditer(sentence):
        word = match.group(0).lower()
        if len(word) >= 4 and word not in STOPWORDS and word not in out:
            out.append(word)
    return out


def candidates() -> list[dict[str, Any]]:
    """Questions about each sentence, interleaved across sentences so a cut keeps the materials covered."""
    per_sentence: list[list[dict[str, Any]]] = []
    for title, course in sorted(load_courses(FIXTURES_DIR / "courses").items()):
        for passage in course.chunks:
            if passage.text.startswith("Question "):
                continue  # exam questions are not answers
            for sentence in _SENTENCE_END.split(passage.text):
                if _SKIP_SENTENCE.search(sentence):
                    continue
                words = words_of(sentence)
                if len(words) < 3:
                    continue
                rows: list[dict[str, Any]] = []
                combos = [*itertools.pairwise(words), *zip(words, words[2:], strict=False)]
                for i, (a, b) in enumerate(combos):
                    if content_terms(a) == content_terms(b):
                        continue  # 'rises and rise' asks about one thing
                    rows.append(_row(title, passage.doc_id, words, PAIR_TEMPLATES[i % len(PAIR_TEMPLATES)], (a, b)))
                for i, triple in enumerate(zip(words, words[1:], words[2:], strict=False)):
                    rows.append(_row(title, passage.doc_id, words, TRIPLE_TEMPLATES[i % 2], triple))
                per_sentence.append(rows)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in itertools.chain.from_iterable(itertools.zip_longest(*per_sentence)):
        if row is not None and row["question"] not in seen:
            seen.add(row["question"])
            out.append(row)
    return out


def _row(course: str, doc_id: str, words: list[str], template: str, asked: tuple[str, ...]) -> dict[str, Any]:
    question = template.format(**dict(zip("abc", asked, strict=False)))
    question = question[0].upper() + question[1:]
    asked_terms = set(content_terms(" ".join(asked)))
    # Words the answer must bring that the question does not give away; else the asked words themselves.
    new = [w for w in words if not set(content_terms(w)) & asked_terms]
    must = (new or list(asked))[:2]
    return {"course": course, "question": question, "sources": [doc_id], "must_contain": must}


def with_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ids from the source document and a running number per document."""
    counts: Counter[str] = Counter()
    out = []
    for row in rows:
        doc = row["sources"][0].replace("/", "-")
        counts[doc] += 1
        out.append({"id": f"{doc}-{counts[doc]:03d}", **row})
    return out


def write(rows: list[dict[str, Any]]) -> None:
    DATASET.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


class Verdicts:
    """Collects the failures of a pytest run, per case id."""

    def __init__(self) -> None:
        self.failed: dict[str, str] = {}
        self.passed = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            case_id = report.nodeid.split("::")[1]
            # The first line names the item; the next says what failed.
            lines = [*report.longreprtext.splitlines(), "", ""]
            self.failed.setdefault(case_id, f"{report.nodeid.split('::')[-1]}: {lines[1].strip() or lines[0]}")
        elif report.passed and report.when == "call":
            self.passed += 1


def verify() -> Verdicts:
    """Run the dataset case file against the in-process reference services."""
    verdicts = Verdicts()
    with tempfile.TemporaryDirectory() as reports:
        args = [str(CASE_FILE), "-q", "-p", "no:cacheprovider", "--with-datasets", "--harness-report-dir", reports]
        code = pytest.main(args, plugins=[verdicts])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        sys.exit(f"the verification run could not run (exit {code})")
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=240, help="keep at most this many verified rows")
    args = parser.parse_args()

    rows = with_ids(candidates())
    print(f"{len(rows)} candidates from the course materials")
    write(rows)
    verdicts = verify()
    kept = []
    for row in rows:
        reason = verdicts.failed.get(row["id"])
        if reason:
            print(f"dropped {row['id']} {row['question']!r}: {reason}")
        else:
            kept.append(row)
    kept = with_ids([{k: v for k, v in row.items() if k != "id"} for row in kept[: args.rows]])
    write(kept)
    final = verify()
    if final.failed:
        sys.exit(f"rows failed on the second run: {final.failed}")
    print(f"{len(kept)} rows written to {DATASET.relative_to(ROOT)}, all passing ({final.passed} items)")


if __name__ == "__main__":
    main()
