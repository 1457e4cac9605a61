"""Golden outputs compared with parity's machinery, noise learned from samples, drift against a baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness._delivery._outcome import Outcome
from harness._errors import CaseFileError
from harness._model._case import GoldenOutput, parse_case_file, resolve_cases
from harness._record._noise import golden_from
from harness._report.baseline import compare_answers
from harness._report.records import outcome_record
from harness._run._options import DriftLimit, _drift_limit
from harness._verdict._golden import compare_golden

EXAM = "1. Which organelle makes ATP?\na)  Mitochondria\nb)  Nucleus\nc)  Ribosome\nd)  Vacuole\nCorrect Answer: a)\n"


def test_an_output_is_judged_against_the_golden_at_its_level_with_a_labelled_diff() -> None:
    golden = GoldenOutput(text=EXAM, level="structural")
    stripped = "\n".join(line for line in EXAM.splitlines() if line[:2] not in ("a)", "b)", "c)", "d)"))
    report = compare_golden(golden, Outcome("prod", "callback", 200, text=stripped))
    assert not report.passed
    assert "golden has choices a-d, prod has none" in report.summary
    assert report.text_diff.startswith("--- golden\n+++ prod")
    assert compare_golden(golden, Outcome("qa", "sync", 200, text=EXAM.replace("ATP", "energy"))).passed


def test_an_error_answer_is_golden_too() -> None:
    golden = GoldenOutput(status=422, body={"detail": [{"loc": ["body", "n"], "type": "missing", "msg": "x"}]})
    report = compare_golden(golden, Outcome("qa", "sync", 500, body={"detail": "boom"}))
    assert not report.passed
    assert report.summary == "golden answered 422, qa answered 500"


def test_noise_between_samples_sets_ignored_paths_and_the_semantic_threshold() -> None:
    bodies = [{"id": f"job-{n}", "at": n, "result": {"score": 3}} for n in range(3)]
    learned = golden_from([Outcome("qa", "sync", 200, body=b) for b in bodies])
    assert learned.ignore == ["/at", "/id"]
    assert learned.level == "normalized"
    assert learned.samples == 3
    assert compare_golden(learned, Outcome("qa", "sync", 200, body={"id": "x", "at": 9, "result": {"score": 3}})).passed
    assert not compare_golden(
        learned, Outcome("qa", "sync", 200, body={"id": "x", "at": 9, "result": {"score": 4}})
    ).passed
    texts = ["The cell is the unit of life.", "The cell is the basic unit of life.", "A cell is the unit of life."]
    varied = golden_from([Outcome("qa", "sync", 200, text=t) for t in texts])
    assert varied.level == "semantic"
    assert varied.self_similarity is not None
    assert varied.threshold == pytest.approx(round(varied.self_similarity - 0.05, 2))
    assert golden_from([Outcome("qa", "sync", 200, text=t) for t in texts[:1] * 2]).level == "normalized"


def test_a_golden_output_belongs_to_a_single_turn_case(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text("cases:\n- id: a\n  turns: [{input: {m: 1}}]\n  golden: {text: hi}\n")
    parsed, doc = parse_case_file(path, "cases.yaml")
    with pytest.raises(CaseFileError, match="golden output and turns"):
        resolve_cases(parsed, doc, "svc", known_checks=[], check_scope=lambda n: "side", arg_errors=lambda n, a: [])
    path.write_text("cases:\n- id: a\n  golden: {text: hi, levle: exact}\n")
    with pytest.raises(CaseFileError, match="levle"):
        parse_case_file(path, "cases.yaml")


def run_record(answers: dict[str, str], compare: dict[str, Any] | None) -> dict[str, Any]:
    """A run record (the baseline format) with one case whose qa answered each text in turn."""
    parts: dict[str, Any] = {}
    for part, text in answers.items():
        turn = {"outcome": outcome_record(Outcome(part, "sync", 200, text=text))}
        parts[part] = {"outcome": "passed", "runs": [{"turns": [turn]}], **({"compare": compare} if compare else {})}
    return {"cases": [{"case": "c.yaml::one", "parts": parts}]}


def test_answers_that_moved_beyond_noise_are_drift_and_others_are_not() -> None:
    how = {"level": "semantic", "threshold": 0.6, "ignore": []}
    before = run_record({"qa": "The cell is the unit of life.", "prod": "Mitochondria make ATP."}, how)
    now = run_record({"qa": "The cell is the basic unit of life.", "prod": "Sorry, I cannot find that."}, how)
    drift = compare_answers(now, before)
    assert drift.headline() == "1 of 2 answers changed beyond noise"
    (moved,) = drift.drifted
    assert moved.part == "prod"
    assert "--- baseline\n+++ now" in moved.text_diff
    assert compare_answers(run_record({"qa": "x"}, None), run_record({"qa": "y"}, None)).compared == 0


@pytest.mark.parametrize(
    ("raw", "drifted", "compared", "fails"),
    [("0", 1, 10, True), ("2", 2, 10, False), ("10%", 1, 10, False), ("10%", 2, 10, True), ("5%", 0, 0, False)],
)
def test_max_drift_is_a_count_or_a_share(raw: str, drifted: int, compared: int, fails: bool) -> None:
    assert _drift_limit(raw, "--harness-max-drift").exceeded(drifted, compared) is fails
    assert DriftLimit(count=0).exceeded(0, 5) is False


class Agreeable:
    """A judge that finds any two texts alike: stands in for an embedder's similarity."""

    name = "agreeable"

    def __call__(self, a: str, b: str) -> float:
        return 1.0


def test_semantic_drift_is_judged_by_the_embedder_given_all_texts_at_once() -> None:
    how = {"level": "semantic", "threshold": 0.9, "ignore": []}
    before = run_record({"qa": "Mitochondria make ATP."}, how)
    now = run_record({"qa": "The powerhouse of the cell produces energy."}, how)
    assert compare_answers(now, before).drifted  # lexically far apart
    asked: list[list[str]] = []

    def embed(texts: list[str]) -> Agreeable:
        asked.append(texts)
        return Agreeable()

    assert not compare_answers(now, before, embed).drifted
    assert asked == [["Mitochondria make ATP.", "The powerhouse of the cell produces energy."]]


def test_a_semantic_golden_output_also_holds_its_facts_said_of_golden_and_the_endpoint() -> None:
    golden = GoldenOutput(text="The treaty was signed in 1919 in Paris.", level="semantic", threshold=0.5)
    report = compare_golden(golden, Outcome("qa", "sync", 200, text="The treaty was signed in 1945 in Paris."))
    assert not report.passed
    assert report.summary.startswith("facts differ: numbers: golden says 1919, qa says 1945")
