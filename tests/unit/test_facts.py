"""The fact check of ``semantic`` parity: each fact kind, the traps a paraphrase sets, and the paraphrase set."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness._verdict._embeddings import LocalEmbedder
from harness._verdict._facts import disagreements, extract
from harness._verdict._parity import SEMANTIC_THRESHOLD, compare, compare_with_noise


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("The Treaty of Versailles was signed in 1919.", {"1919"}),
        ("Passwords need at least twelve characters.", {"12"}),
        ("Keep it under two thousand words, or 2,000 at most.", {"2000"}),
        ("Rates rose 5% and then five percent again.", {"5%"}),
        ("The flight was delayed by two hours.", {"7200 s"}),
        ("It was held back for 120 minutes.", {"7200 s"}),
        ("Due on Friday at 5 pm.", {"17:00"}),
        ("Hand it in by five in the afternoon.", {"17:00"}),
        ("Departure at quarter past eight.", {"08:15"}),
        ("Open until midnight.", {"00:00"}),
        ("Take it twice a day.", {"2"}),
        ("Take it once a week.", {"1"}),
    ],
)
def test_numbers_are_read_in_any_spelling(text: str, numbers: set[str]) -> None:
    assert frozenset().union(*extract(text).numbers.values()) >= numbers


@pytest.mark.parametrize(
    "text",
    [
        "1. First, measure output.\n2. Second, deflate it.",  # list markers and ordinals
        "One of the reasons is that no one asked.",  # "one" as a pronoun
        "CO2 and H2O are molecules; GPT-4 is a model.",  # digits inside names
        "The 17th century saw the second revolution.",  # ordinals
    ],
)
def test_no_number_where_none_is_stated(text: str) -> None:
    assert extract(text).numbers == {}


@pytest.mark.parametrize(
    ("text", "entities"),
    [
        ("Shakespeare wrote Hamlet; the play is set in Denmark.", {"Hamlet", "Denmark"}),  # not the sentence start
        ("GDP and the CPI are measured by the BLS.", {"GDP", "CPI", "BLS"}),  # acronyms anywhere
        ('Water boils. (Then it cools.) "It is done."', set()),  # sentence starts, even after a bracket
        ("1. Which event?\na)  A rise in rates\nb)  Growth of the labour force", set()),  # list items start anew
    ],
)
def test_names_are_capitalised_words_within_a_sentence_and_acronyms(text: str, entities: set[str]) -> None:
    assert set(extract(text).entities) == entities


@pytest.mark.parametrize(
    ("qa", "prod", "expected"),
    [
        ("Signed in 1919.", "Signed in 1945.", "numbers: qa says 1919, prod says 1945"),
        ("Delayed by two hours.", "Delayed by ten minutes.", "numbers: qa says 2 hours, prod says 10 minutes"),
        ("It restarts at 2 am.", "It restarts at 2 pm.", "numbers: qa says 2 am, prod says 2 pm"),
        ("The car is fast.", "The car is not fast.", 'opposite (fast/slow): qa says "fast", prod "not fast"'),
        ("Students can retake the quiz.", "Students cannot retake the quiz.", 'negation: qa says "Students can'),
        ("Demand falls when the price rises.", "Demand rises when the price rises.", "opposite (up/down)"),
        (
            "The trip to Berlin leaves now.",
            "The trip to Munich leaves now.",
            "entities: qa says Berlin, prod says Munich",
        ),
        (
            "Paris is the capital of France.",
            "Lyon is the capital of France.",
            "entities: qa says Paris, prod says Lyon",
        ),
    ],
)
def test_a_changed_fact_is_named_with_both_sides(qa: str, prod: str, expected: str) -> None:
    found = disagreements(qa, prod)
    assert any(message.startswith(expected) for message in found), found


@pytest.mark.parametrize(
    ("qa", "prod"),
    [
        ("The car is fast.", "The automobile is quick."),
        ("The car isn't slow.", "The car is fast."),  # a negated opposite is the same pole
        ("The bridge is not open to trucks.", "The bridge is closed to trucks."),
        ("It is not only cheap but fast.", "It is cheap and fast."),  # "not only" negates nothing
        ("You can't not notice the change.", "You notice the change."),  # two cues in one clause cancel out
        ("Nominal GDP can grow even if real output does not.", "Nominal GDP can grow while real output stays flat."),
        ("Refunds arrive within five business days.", "Refunds arrive in under a working week."),  # one side omits
        ("Water boils at 100 degrees Celsius.", "At sea level, water boils once it reaches 100 °C."),
        ("The Amazon is the largest rainforest on Earth.", "No tropical forest is bigger than the Amazon."),
        ("Real GDP uses base-year prices.", "real GDP uses Base-Year prices."),  # capitalisation is no name
        ("Enzymes speed up reactions without being used up.", "Enzymes accelerate reactions and are not consumed."),
        ("Shipping is free over $50.", "Delivery costs nothing if you spend more than 50 dollars."),
    ],
)
def test_a_paraphrase_agrees(qa: str, prod: str) -> None:
    assert disagreements(qa, prod) == []


def test_semantic_parity_fails_a_changed_fact_the_embedding_misses(make_outcome: Any) -> None:
    qa = make_outcome("The Treaty of Versailles was signed in 1919.")
    prod = make_outcome("The Treaty of Versailles was signed in 1945.", endpoint="prod")
    similarity = asyncio.run(LocalEmbedder().similarity([qa.text, prod.text]))
    report = compare("semantic", qa, prod, similarity=similarity)
    assert report.similarity is not None
    assert report.similarity >= SEMANTIC_THRESHOLD  # the embedding alone passes
    assert not report.passed
    assert report.summary.startswith("facts differ: numbers: qa says 1919, prod says 1945, though similarity 0.")
    assert compare("semantic", qa, qa, similarity=similarity).passed
    assert compare("lexical", qa, prod, threshold=0.5).passed  # lexical judges words only, as documented


def test_noise_aware_parity_judges_only_the_facts_each_endpoint_keeps(make_outcome: Any) -> None:
    stable = [make_outcome("The exam is on Friday at 5 pm.") for _ in range(2)]
    other = [make_outcome("The exam is on Friday at 9 am.", endpoint="prod") for _ in range(2)]
    report = compare_with_noise(stable, other, margin=0.5)  # lexical here: a wide margin, the similarity passes
    assert not report.passed
    assert report.summary.startswith("facts differ: numbers: qa says 5 pm, prod says 9 am")
    # An endpoint that names another time on each call is noisy about it: the time is not judged.
    noisy = [make_outcome("The exam is on Friday at 5 pm."), make_outcome("The exam is on Friday at 9 am.")]
    report = compare_with_noise(noisy, other, margin=0.5)
    assert report.passed, report.summary
    assert report.summary.endswith("facts not judged: qa disagrees with itself on them")


# --- the paraphrase set: held-out triples, measured as bench/semantic.py does ---------------------------------

PARAPHRASES = Path(__file__).parents[1] / "data" / "paraphrases.yaml"


def _held_out(facts: bool) -> tuple[int, int, int]:
    """(same meaning passed, changed meaning failed, triples) at the default threshold, with or without facts."""
    held_out = yaml.safe_load(PARAPHRASES.read_text(encoding="utf-8"))["held_out"]
    texts = [text for t in held_out for text in (t["text"], t["paraphrase"], t["changed"])]
    similarity = asyncio.run(LocalEmbedder().similarity(texts))

    def passes(a: str, b: str) -> bool:
        return similarity(a, b) >= SEMANTIC_THRESHOLD and not (facts and disagreements(a, b))

    same = sum(passes(t["text"], t["paraphrase"]) for t in held_out)
    changed = sum(not passes(t["text"], t["changed"]) for t in held_out)
    return same, changed, len(held_out)


def test_held_out_facts_fail_changed_meanings_and_keep_paraphrases() -> None:
    """Facts were designed on the calibration triples only. Measured: 15/16 paraphrases pass, 13/16 changed
    meanings fail; embeddings alone fail 1/16 changed meanings."""
    same, changed, total = _held_out(facts=True)
    assert same >= 7 / 8 * total, f"{same}/{total} same-meaning pairs pass"
    assert changed >= 3 / 4 * total, f"{changed}/{total} changed-meaning pairs fail"
    same_off, changed_off, _ = _held_out(facts=False)
    assert changed_off <= total / 8, f"without facts {changed_off}/{total} changed-meaning pairs fail"
    assert same_off >= same


@pytest.mark.xfail(strict=True, reason="issue 23's bar: 13/16 held-out changed meanings fail, 14/16 are wanted")
def test_held_out_changed_meanings_fail_seven_in_eight() -> None:
    _, changed, total = _held_out(facts=True)
    assert changed >= 7 / 8 * total, f"{changed}/{total} changed-meaning pairs fail"
