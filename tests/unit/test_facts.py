"""The fact check of ``semantic`` parity: each fact kind, the traps a paraphrase sets, and the paraphrase set."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness._verdict._embeddings import LocalEmbedder
from harness._verdict._facts import disagreements, extract, swapped_words, word_swaps
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
        ("Take it once every two weeks.", {"1", "1.2096e+06 s"}),
        ("Two fifths of the mark.", {"40%"}),  # a fraction of something is a percentage
        ("It costs a tenth of its marks.", {"10%"}),
        ("Three quarters of the votes.", {"75%"}),
        ("Nearly three decades later.", {f"{30 * 365.25 * 86400:g} s"}),
        ("Close to thirty years later.", {f"{30 * 365.25 * 86400:g} s"}),
        ("By one minute before midnight.", {"23:59"}),  # a time of day and an offset from it
        ("Five minutes before 9 am.", {"08:55"}),
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
        "The link stops working once a full day has passed.",  # "once" as a conjunction
        "It was held on the fourteenth of March.",  # an ordinal date is no count
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
        ("It counts for 40 percent of the grade.", "It counts for a quarter of the grade.", "numbers: qa says 40"),
        (
            "Raising rates usually reduces inflation.",
            "Raising rates usually increases inflation.",
            "opposite (up/down)",
        ),
        ("Tuples are immutable.", "Tuples are mutable.", 'opposite: qa says "immutable"'),
        ("The river flows into Niger.", "The river flows into Nigeria.", "entities: qa says Niger"),
        ("Borrowing becomes more expensive.", "Borrowing becomes less expensive.", "opposite (more/less)"),
        ("Calculators are permitted in the exam.", "Calculators are forbidden in the exam.", "opposite (allow/forbid)"),
        ("Attendance is mandatory for all students.", "Attendance is optional for all students.", "opposite (required"),
        ("The pool keeps no more than ten connections.", "The pool keeps more than ten connections.", "opposite (more"),
        ("Passwords need at least 12 characters.", "Passwords need at most 12 characters.", "opposite (more/less)"),
        ("Submit it no later than Friday.", "Submit it later than Friday.", "opposite (before/after)"),
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
        ("The exam counts for 40 percent of the grade.", "Two fifths of the grade comes from the exam."),
        ("The link expires after 24 hours.", "The link stops working once a full day has passed."),
        ("The project is due on Friday at 11:59 pm.", "Hand the project in by one minute before midnight on Friday."),
        ("The Wall fell nearly three decades after it was built.", "It came down thirty years after construction."),
        ("It led to German reunification.", "Afterwards Germany became one country again."),  # forms of one name
        ("The Fed sets policy in the United States.", "In the US, the Fed sets policy."),  # initials
        ("The pool keeps at most 10 open connections.", "No more than ten connections are held open."),
        ("It restarts without any data loss.", "It restarts with no data loss."),  # "with no" is "without"
        ("In the United States, GDP grew.", "In the US, GDP grew."),  # initials of part of a name
        ("Two thirds of the votes.", "67% of the votes."),
        ("Each retry adds a second of delay.", "Each retry adds a delay of 1 second."),  # "second" is no half
        ("The offer lasts 1 month.", "The offer lasts 30 days."),
        ("Gasoline is inflammable.", "Gasoline is flammable."),  # no negative prefix
        ("Inflation erodes savings over time.", "Inflation reduces savings over time."),  # one side of a dimension
        ("Rail is more expensive than the bus.", "The bus is less expensive than rail."),  # a comparison turned
        ("Submit it no later than Friday.", "Submit it before Friday."),
        ("Raising rates usually reduces inflation.", "Higher rates tend to bring inflation down."),  # relates both
        ("Table salt is made of sodium and chlorine.", "Ordinary cooking salt is a compound of sodium and chlorine."),
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


# --- word swaps: one slot of a shared sentence filled with other words -------------------------------------------


def _judge(*texts: str) -> Any:
    """The run's judge on ``texts``: the local model, with the words swapped between them embedded too."""
    return asyncio.run(LocalEmbedder().similarity(list(texts)))


def test_a_word_swapped_for_an_unrelated_one_is_a_changed_fact() -> None:
    qa, prod = "The CPI tracks the price of consumer goods.", "The CPI tracks the output of consumer goods."
    assert word_swaps(qa, prod) == (("price", "output"),)
    judge = _judge(qa, prod)
    assert "price" in judge.vectors  # embedded with the texts, in one call
    assert "output" in judge.vectors
    found = disagreements(qa, prod, judge)
    assert found[:1] == [f'words: qa says "price", prod "output" (related {judge("price", "output"):.2f})']
    assert disagreements(qa, prod) == []  # no measure of synonyms: the swap is not judged


@pytest.mark.parametrize(
    ("qa", "prod"),
    [
        ("The car is fast and the engine is loud.", "The automobile is fast and the engine is loud."),  # a synonym
        ("Office hours are on Tuesdays in room 204.", "The professor meets students every Tuesday in room 204."),
        ("The report must be under 2000 words.", "The report must be shorter than two thousand words."),
    ],
)
def test_a_synonym_a_reworded_start_or_a_number_is_no_swapped_fact(qa: str, prod: str) -> None:
    assert disagreements(qa, prod, _judge(qa, prod)) == []


def test_swaps_are_found_only_in_a_shared_sentence() -> None:
    # The swaps of a case's texts are bounded: the first MAX_SWAP_TEXTS texts, every ordered pair of them.
    many = [f"The CPI tracks the {word} of a basket of goods." for word in ("price", "output", "weight") * 10]
    assert set(swapped_words(many)) == {"price", "output", "weight"}
    assert word_swaps(
        "The CPI tracks the price of a basket of goods.", "The CPI tracks the output of a basket of goods."
    )
    # A rewording shares too few content words for its differences to be slots of one sentence.
    assert (
        word_swaps("The CPI tracks the price of a basket of goods.", "Consumer prices follow a household's shopping.")
        == ()
    )
    # A slot at the start is where a rewording begins ("Office hours are" / "The professor meets"): never a swap.
    assert word_swaps("Office hours are on Tuesdays in room 204.", "The professor meets on Tuesdays in room 204.") == ()


def test_semantic_parity_fails_a_swapped_word_the_embedding_misses(make_outcome: Any) -> None:
    qa = make_outcome("The CPI tracks the price of a typical basket of consumer goods.")
    prod = make_outcome("The CPI tracks the output of a typical basket of consumer goods.", endpoint="prod")
    similarity = _judge(qa.text, prod.text)
    assert similarity(qa.text, prod.text) >= SEMANTIC_THRESHOLD  # the embedding alone passes
    report = compare("semantic", qa, prod, similarity=similarity)
    assert not report.passed
    assert report.summary.startswith('facts differ: words: qa says "price", prod "output"'), report.summary
    assert compare("semantic", qa, qa, similarity=similarity).passed
    # Noise-aware parity judges the swap with the same embeddings.
    noisy = compare_with_noise([qa, qa], [prod, prod], margin=0.5, similarity=similarity)
    assert not noisy.passed
    assert "words:" in noisy.summary


# --- the paraphrase set: measured as bench/semantic.py does ------------------------------------------------------

PARAPHRASES = Path(__file__).parents[1] / "data" / "paraphrases.yaml"


def _measured(part: str, facts: bool) -> tuple[int, int, int]:
    """(same meaning passed, changed meaning failed, triples) of one set at the default threshold, judged as a run
    judges them: the local model, with or without the fact check."""
    triples = yaml.safe_load(PARAPHRASES.read_text(encoding="utf-8"))[part]
    same = changed = 0
    for t in triples:
        judge = _judge(t["text"], t["paraphrase"], t["changed"])

        def passes(a: str, b: str, judge: Any = judge) -> bool:
            return judge(a, b) >= SEMANTIC_THRESHOLD and not (facts and disagreements(a, b, judge))

        same += passes(t["text"], t["paraphrase"])
        changed += not passes(t["text"], t["changed"])
    return same, changed, len(triples)


def test_held_out_facts_fail_changed_meanings_and_keep_paraphrases() -> None:
    """The held-out set was written blind and measured once: 30/32 paraphrases pass, 25/32 changed meanings fail
    (31/32 and 25/32 now); embeddings alone fail none of the changed meanings."""
    same, changed, total = _measured("held_out", facts=True)
    assert same >= 7 / 8 * total, f"{same}/{total} same-meaning pairs pass"
    assert changed >= 3 / 4 * total, f"{changed}/{total} changed-meaning pairs fail"
    same_off, changed_off, _ = _measured("held_out", facts=False)
    assert changed_off <= total / 8, f"without facts {changed_off}/{total} changed-meaning pairs fail"
    assert same_off >= same


def test_minimal_edits_are_judged_no_worse_than_measured() -> None:
    """One word swapped for a synonym, or for another meaning: the hard case, where only world knowledge tells
    "homework" / "assignment" from "pancreas" / "liver". Measured once on the held-out half: 18/24 synonyms pass,
    8/24 changed meanings fail; embeddings alone pass all 48 pairs."""
    same, changed, total = _measured("minimal_held_out", facts=True)
    assert same >= 3 / 4 * total, f"{same}/{total} minimal synonym swaps pass"
    assert changed >= total / 4, f"{changed}/{total} minimal changes of meaning fail"
    same_off, changed_off, _ = _measured("minimal_held_out", facts=False)
    assert (same_off, changed_off) == (total, 0)  # what the fact check adds, it adds over embeddings that see none


@pytest.mark.xfail(
    strict=True,
    reason="issue 23's bar, unmet: 25/32 held-out changed meanings fail, 28 are wanted. Most that pass put another "
    "member of the same class in one slot (pancreas / liver), which an embedding scores like a synonym",
)
def test_held_out_changed_meanings_fail_seven_in_eight() -> None:
    _, changed, total = _measured("held_out", facts=True)
    assert changed >= 7 / 8 * total, f"{changed}/{total} changed-meaning pairs fail"
