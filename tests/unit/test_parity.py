from __future__ import annotations

import re
from typing import Any

import pytest

from harness._errors import HarnessError
from harness._verdict._parity import compare, compare_with_noise, normalize_text, render_text_diff
from harness._verdict._similarity import text_similarity
from tests.support.exam_samples import SEED as EXAM
from tests.support.exam_samples import STRIPPED

REWORDED = EXAM.replace("Which organelle generates ATP?", "Which organelle produces most ATP?").replace(
    "Golgi Apparatus", "Golgi body"
)

VALIDATION_422 = {
    "detail": [{"type": "missing", "loc": ["body", "course_title"], "msg": "Field required", "input": {}}]
}


@pytest.fixture
def pair(make_outcome: Any) -> Any:
    def build(qa_text: str | None, prod_text: str | None, **prod: Any) -> tuple[Any, Any]:
        qa = make_outcome(qa_text, body={"text": qa_text, "model_version": "m1"} if qa_text is not None else None)
        prod.setdefault("endpoint", "prod")
        prod.setdefault("delivery", "callback")
        prod.setdefault("body", {"callback-id": "abc", "status": "succeeded", "text": prod_text, "model_version": "m1"})
        return qa, make_outcome(prod_text, **prod)

    return build


def test_exact(pair: Any) -> None:
    report = compare("exact", *pair(EXAM, EXAM))
    assert (report.level, report.passed, report.text_diff) == ("exact", True, "")
    assert report.summary == f"texts are identical ({len(EXAM)} characters)"
    report = compare("exact", *pair(EXAM, EXAM.replace("Golgi Apparatus", "Golgi apparatus")))
    assert not report.passed
    assert report.summary.startswith("texts differ at line 5, offset ")
    assert "qa «d)  Golgi Apparatus" in report.summary
    assert "prod «d)  Golgi apparatus" in report.summary
    assert "--- qa\n+++ prod\n" in report.text_diff
    assert "-d)  Golgi Apparatus\n+d)  Golgi apparatus" in report.text_diff


def test_exact_compares_bodies_when_there_is_no_text(make_outcome: Any) -> None:
    qa = make_outcome(None, body={"a": 1, "b": [1, 2]})
    same = make_outcome(None, endpoint="prod", body={"a": 1, "b": [1, 2]})
    other = make_outcome(None, endpoint="prod", body={"a": 1, "b": [1, 3]})
    assert compare("exact", qa, same).passed
    report = compare("exact", qa, other)
    assert not report.passed
    assert report.summary == "bodies differ (no text on either side); see json diff"
    assert "root['b'][1]" in report.json_diff
    assert "2" in report.json_diff
    assert "3" in report.json_diff


def test_normalized(pair: Any) -> None:
    qa, prod = pair("**Mitochondria**  produce\nATP.", "mitochondria produce ATP.")
    assert compare("exact", qa, prod).passed is False
    report = compare("normalized", qa, prod)
    assert report.passed, report.summary
    assert report.summary == "texts are equal after normalisation"
    report = compare("normalized", *pair("Mitochondria produce ATP.", "Mitochondria store ATP."))
    assert not report.passed
    assert report.summary.startswith("texts differ after normalisation at line 1, offset 13: qa «")
    assert normalize_text("Cafe\u0301 _snake_case_ `code`") == "café snake_case code"


def test_structural_passes_a_reworded_exam_with_the_same_shape(pair: Any) -> None:
    report = compare("structural", *pair(EXAM, REWORDED))
    assert report.passed, report.summary
    assert report.summary == "same structure: 2 questions, body types agree"
    assert report.text_diff  # the wording differs, so there is still something to read


def test_structural_names_the_questions_whose_choices_went_missing(pair: Any) -> None:
    report = compare("structural", *pair(EXAM, STRIPPED))
    assert not report.passed
    assert report.summary == "structure differs: questions 1-2: qa has choices a-d, prod has none"
    assert "-a)  Nucleus" in report.text_diff


def test_structural_answer_keys_and_question_count(pair: Any) -> None:
    changed = EXAM.replace("Correct Answer: c)", "Correct Answer: a)")
    report = compare("structural", *pair(EXAM, changed))
    assert report.summary == "structure differs: question 1: qa answer c), prod answer a)"
    three = EXAM + "\n" + EXAM.split("\n\n")[0].replace("1.", "3.") + "\n"
    stripped_three = re.sub(r"^[a-d]\)  .*\n", "", three, flags=re.MULTILINE).replace("Correct Answer: c)", "")
    report = compare("structural", *pair(three, stripped_three))
    assert report.summary == (
        "structure differs: questions 1-3: qa has choices a-d, prod has none; "
        "questions 1, 3: qa answer c), prod answer none"
    )
    one_question = EXAM.split("\n\n")[0] + "\n"
    report = compare("structural", *pair(EXAM, one_question))
    assert report.summary == "structure differs: qa has 2 questions, prod has 1"
    report = compare("structural", *pair(EXAM, "Sorry, I cannot make an exam."))
    assert (
        report.summary == "structure differs: qa text is an exam with 2 questions, prod text has no numbered questions"
    )


def test_structural_sources_and_body_types(make_outcome: Any) -> None:
    qa = make_outcome("a", body={"reply": "a", "sources": ["s1", "s2"], "n": 1}, sources=["s1", "s2"])
    same = make_outcome(
        "b", endpoint="prod", body={"reply": "b", "sources": ["s2", "s1"], "n": 2.5}, sources=["s2", "s1"]
    )
    assert compare("structural", qa, same).passed
    other = make_outcome("b", endpoint="prod", body={"reply": "b", "sources": ["s1"], "n": "2", "x": 1}, sources=["s1"])
    report = compare("structural", qa, other)
    assert not report.passed
    assert "sources differ: only qa ['s2'], only prod []" in report.summary
    assert "body.n is a number on qa, a string on prod" in report.summary
    assert "body.x only on prod" in report.summary  # same delivery, so key sets are compared too
    ignoring = compare("structural", qa, other, ignore_paths=["/n", "x"])
    assert "body.n" not in ignoring.summary
    assert "body.x" not in ignoring.summary
    assert "root['n']" not in ignoring.json_diff
    assert "root['x']" not in ignoring.json_diff


def test_structural_tolerates_different_envelopes_across_deliveries(pair: Any) -> None:
    # A sync body {"text", "model_version"} and a callback payload with "callback-id" and "status" differ in keys.
    report = compare("structural", *pair(EXAM, EXAM))
    assert report.passed, report.summary
    # The JSON diff shows declared outputs (sources, metadata), not the callback envelope.
    assert "callback-id" not in report.json_diff
    assert report.json_diff == ""


def test_structural_flags_text_on_one_side_only(pair: Any, make_outcome: Any) -> None:
    qa = make_outcome(EXAM)
    prod = make_outcome(None, endpoint="prod", body={"status": "succeeded"})
    report = compare("structural", qa, prod)
    assert (report.passed, report.summary) == (False, "qa returned output text, prod returned none")


def test_lexical(pair: Any) -> None:
    report = compare("lexical", *pair(EXAM, REWORDED), threshold=0.8)
    assert report.passed, report.summary
    assert report.similarity is not None
    assert report.similarity > 0.8
    assert report.threshold == 0.8
    assert report.judge == "lexical: word+bigram cosine"
    report = compare("lexical", *pair(EXAM, STRIPPED), threshold=0.8)
    assert not report.passed
    assert re.fullmatch(r"similarity 0\.\d\d < threshold 0\.80 \(lexical: word\+bigram cosine\)", report.summary)


def test_semantic_without_an_embedder_is_lexical_and_says_so(pair: Any) -> None:
    report = compare("semantic", *pair(EXAM, STRIPPED), threshold=0.8)
    lexical = compare("lexical", *pair(EXAM, STRIPPED), threshold=0.8)
    assert not report.passed
    assert report.similarity == lexical.similarity
    assert report.judge == "lexical: word+bigram cosine; no embedder configured"
    assert report.summary.endswith("(lexical: word+bigram cosine; no embedder configured)")


def test_none_always_passes_but_fills_diffs(pair: Any) -> None:
    report = compare("none", *pair(EXAM, STRIPPED))
    assert report.passed
    assert report.summary == "parity not enforced (level none); outputs are different"
    assert report.text_diff
    assert report.json_diff == ""  # only the text differs; it has its own diff


def test_unknown_level() -> None:
    with pytest.raises(HarnessError, match="unknown parity level 'fuzzy'"):
        compare("fuzzy", None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("level", ["exact", "normalized", "structural", "semantic"])
def test_error_parity_status_mismatch_whatever_the_level(level: str, make_outcome: Any) -> None:
    qa = make_outcome(None, status=500, body={"detail": "Internal Server Error"})
    prod = make_outcome(None, endpoint="prod", status=422, body=VALIDATION_422)
    report = compare(level, qa, prod)  # type: ignore[arg-type]
    assert not report.passed
    assert report.summary == "qa answered 500, prod answered 422"
    assert "root['detail']" in report.json_diff


def test_error_parity_same_error_with_different_messages(make_outcome: Any) -> None:
    reworded = {"detail": [dict(VALIDATION_422["detail"][0], msg="This field is required")]}
    qa = make_outcome(None, status=422, body=VALIDATION_422)
    prod = make_outcome(None, endpoint="prod", status=422, body=reworded)
    report = compare("exact", qa, prod)
    assert report.passed, report.summary
    assert report.summary == "both answered 422 with the same error (detail list, loc body.course_title, type missing)"


def test_error_parity_same_status_different_error(make_outcome: Any) -> None:
    other = {"detail": [{"type": "int_parsing", "loc": ["body", "num_questions"], "msg": "x", "input": "a"}]}
    qa = make_outcome(None, status=422, body=VALIDATION_422)
    prod = make_outcome(None, endpoint="prod", status=422, body=other)
    report = compare("structural", qa, prod)
    assert not report.passed
    assert report.summary == (
        "both answered 422 but the errors differ: qa detail list, loc body.course_title, type missing; "
        "prod detail list, loc body.num_questions, type int_parsing"
    )
    unrecognised = make_outcome(None, endpoint="prod", status=422, body={"oops": 1})
    assert "only qa sent a recognised error body" in compare("exact", qa, unrecognised).summary


def test_error_parity_one_side_succeeded_or_no_response(make_outcome: Any) -> None:
    qa = make_outcome(EXAM)
    prod = make_outcome(None, endpoint="prod", status=401, body={"detail": "Not authenticated"})
    assert compare("semantic", qa, prod).summary == "qa answered 200, prod answered 401"
    silent = make_outcome(None, endpoint="prod", status=None, body=None)
    assert compare("exact", qa, silent).summary == "qa answered 200, prod got no response"
    none_level = compare("none", qa, prod)
    assert none_level.passed
    assert none_level.summary == "qa answered 200, prod answered 401 (parity level none: not enforced)"


def test_text_diff_is_trimmed_and_splits_long_lines() -> None:
    qa = "\n".join(f"line {i}" for i in range(200))
    prod = "\n".join(f"line {i}!" for i in range(200))
    diff = render_text_diff(qa, prod)
    lines = diff.splitlines()
    assert len(lines) == 81
    assert re.fullmatch(r"\.\.\. \d+ more lines", lines[-1])
    long_qa = " ".join(f"Sentence number {i} is here." for i in range(20))
    long_prod = long_qa.replace("Sentence number 7 is here.", "Sentence number 7 was there.")
    diff = render_text_diff(long_qa, long_prod)
    assert "-Sentence number 7 is here.\n+Sentence number 7 was there." in diff


# --- noise-aware parity: QA-vs-prod difference judged against each endpoint's own variation --------------

QA_SAMPLES = [
    "Nominal GDP measures output at current prices. Real GDP adjusts for inflation by using the prices of a base "
    "year. So when prices rise, nominal GDP can grow even if real output does not. Economists compare real GDP "
    "across years to see true growth.",
    "Nominal GDP values output at current prices. Real GDP corrects for inflation by using the prices of a base "
    "year. So when prices rise, nominal GDP may grow even if real output does not. Economists compare real GDP "
    "over years to see actual growth.",
    "Nominal GDP measures production at today's prices. Real GDP adjusts for inflation using the prices of a "
    "fixed base year. Thus when prices go up, nominal GDP can rise even if real output stays flat. Economists "
    "compare real GDP across years to measure true growth.",
]
PROD_SAMPLES = [
    "Nominal GDP measures output at current prices. Real GDP removes inflation by using the prices of a base "
    "year. So when prices increase, nominal GDP can grow even if real output does not. Economists compare real "
    "GDP between years to see true growth.",
    "Nominal GDP reflects output at current prices. Real GDP adjusts for inflation by applying the prices of a "
    "base year. Hence when prices rise, nominal GDP can grow even though real output does not. Economists compare "
    "real GDP across years to judge true growth.",
    "Nominal GDP measures output at current market prices. Real GDP adjusts for inflation by using base year "
    "prices. So if prices rise, nominal GDP can grow even if real output does not. Economists compare real GDP "
    "across years to see real growth.",
]
# A prod that keeps only the first sentence: the rest of the explanation is gone.
PROD_DROPPING = [sample.split(". ")[0] + "." for sample in PROD_SAMPLES]


def _samples(make_outcome: Any, texts: list[str], endpoint: str) -> list[Any]:
    return [make_outcome(text, endpoint=endpoint) for text in texts]


def test_noise_aware_passes_wording_variation_a_fixed_cutoff_would_fail(make_outcome: Any) -> None:
    qa = _samples(make_outcome, QA_SAMPLES, "qa")
    prod = _samples(make_outcome, PROD_SAMPLES, "prod")
    # A fixed 0.8 cutoff on one QA/prod pair cries wolf: the model just worded it differently.
    fixed = compare("semantic", qa[2], prod[1], threshold=0.8)
    assert not fixed.passed, fixed.summary
    report = compare_with_noise(qa, prod, margin=0.05)
    assert report.passed, report.summary
    assert report.level == "noise"
    assert report.noise is not None
    assert set(report.noise) == {"qa_self", "prod_self", "cross"}
    assert report.noise["qa_self"] < 0.8  # the endpoint disagrees with itself this much
    assert report.similarity == report.noise["cross"]
    assert report.threshold == pytest.approx(min(report.noise["qa_self"], report.noise["prod_self"]) - 0.05)
    assert re.fullmatch(
        r"cross similarity 0\.\d\d >= noise floor 0\.\d\d \(qa vs itself 0\.\d\d, prod vs itself 0\.\d\d, "
        r"margin 0\.05; 3 qa and 3 prod samples; lexical: word\+bigram cosine\)",
        report.summary,
    )


def test_noise_aware_fails_a_prod_that_drops_content(make_outcome: Any) -> None:
    qa = _samples(make_outcome, QA_SAMPLES, "qa")
    prod = _samples(make_outcome, PROD_DROPPING, "prod")
    report = compare_with_noise(qa, prod, margin=0.05)
    assert not report.passed, report.summary
    assert report.summary.startswith("cross similarity 0.4")
    assert " < noise floor " in report.summary
    assert report.text_diff


def test_noise_aware_single_samples_and_errors(make_outcome: Any) -> None:
    one = compare_with_noise([make_outcome("a b c")], [make_outcome("a b c", endpoint="prod")])
    assert one.passed
    assert "self-noise unknown" in one.summary
    failing = [make_outcome("x"), make_outcome(None, status=500, body={"detail": "boom"})]
    prod = _samples(make_outcome, ["x", "x"], "prod")
    report = compare_with_noise(failing, prod)
    assert (report.passed, report.summary) == (False, "qa answered 500, prod answered 200")
    with pytest.raises(HarnessError, match="at least one sample"):
        compare_with_noise([], prod)


def test_similarity_bounds() -> None:
    assert text_similarity("", "") == 1.0
    assert text_similarity("a", "") == 0.0
    assert text_similarity("Real GDP", "real  gdp") == pytest.approx(1.0)
    assert 0 < text_similarity("real GDP grows", "nominal GDP grows") < 1


def test_a_registered_text_structure_is_compared_by_structural_parity(pair: Any) -> None:
    from harness import register_text_structure
    from harness._verdict import _structures

    def rows(text: str) -> int:
        return sum(line.startswith("|") for line in text.splitlines())

    def differences(qa: str, prod: str) -> list[str]:
        return [f"qa has {rows(qa)} table rows, prod has {rows(prod)}"] if rows(qa) != rows(prod) else []

    register_text_structure("table", differences, lambda text: f"{rows(text)} table rows" if rows(text) else None)
    try:
        same = compare("structural", *pair("| a |\n| b |", "| x |\n| y |"))
        assert same.passed, same.summary
        assert same.summary.startswith("same structure: 2 table rows")
        shorter = compare("structural", *pair("| a |\n| b |", "| x |"))
        assert not shorter.passed
        assert "qa has 2 table rows, prod has 1" in shorter.summary
    finally:
        del _structures._TEXT_STRUCTURES["table"]
