from __future__ import annotations

from typing import Any

import pytest

from harness._verdict._checks import CheckSettings

ANSWER = "Nominal GDP uses current prices; real GDP uses the prices of a base year."
BASE = ANSWER.index("base year")
SORRY = "I\u2019m sorry, I don\u2019t have anything on the World Cup in your course materials."


def test_retrieval_miss(check_on: Any, make_outcome: Any) -> None:
    assert check_on("retrieval_miss", None, make_outcome(ANSWER)).passed
    result = check_on("retrieval_miss", None, make_outcome(SORRY))
    assert not result.passed
    assert "sorry token 'sorry' at offset 4" in result.message
    assert "«I\u2019m sorry, I don\u2019t have" in result.message


def test_retrieval_miss_extra_tokens_and_settings(check_on: Any, make_outcome: Any) -> None:
    outcome = make_outcome("No information about that, alas.")
    assert check_on("retrieval_miss", None, outcome).passed
    assert "'No information'" in check_on("retrieval_miss", ["No information"], outcome).message
    settings = CheckSettings(sorry_tokens=("alas",))
    assert "'alas'" in check_on("retrieval_miss", None, outcome, settings=settings).message


def test_refusal(check_on: Any, make_outcome: Any) -> None:
    assert check_on("refusal", None, make_outcome(SORRY)).passed
    result = check_on("refusal", None, make_outcome(ANSWER))
    assert not result.passed
    assert result.message.startswith("expected a refusal containing one of ['sorry', 'apologize'")
    assert "got an answer instead: «Nominal GDP uses" in result.message


def test_expected_sources_forms(check_on: Any, make_outcome: Any) -> None:
    outcome = make_outcome(ANSWER, sources=["macro-ch2", "macro-ch3"])
    assert check_on("expected_sources", ["macro-ch2"], outcome).passed
    assert check_on("expected_sources", {"any_of": ["x", "macro-ch3"]}, outcome).passed
    assert check_on("expected_sources", {"exact": ["macro-ch3", "macro-ch2"]}, outcome).passed
    missing = check_on("expected_sources", ["macro-ch2", "past-exam-1"], outcome)
    assert missing.message == "sources: missing ['past-exam-1'] (got ['macro-ch2', 'macro-ch3'])"
    exact = check_on("expected_sources", {"exact": ["macro-ch2"]}, outcome)
    assert "expected exactly ['macro-ch2']: missing [], unexpected ['macro-ch3']" in exact.message
    assert "none of ['x'] was retrieved" in check_on("expected_sources", {"any_of": ["x"]}, outcome).message
    assert "unexpected ['macro-ch3']" in check_on("expected_sources", {"none_of": ["macro-ch3"]}, outcome).message
    nothing = check_on("expected_sources", ["a"], make_outcome(ANSWER))
    assert "qa returned no sources" in nothing.message
    assert "bad argument" in check_on("expected_sources", {"some_of": ["a"]}, outcome).message


@pytest.mark.parametrize(
    ("name", "arg", "passes"),
    [
        ("contains", "real GDP", True),
        ("contains", ["real GDP", "base year"], True),
        ("contains", "Real GDP", False),
        ("icontains", "REAL gdp", True),
        ("icontains", ["real gdp", "inflation"], False),
        ("not_contains", "inflation", True),
        ("not_contains", ["inflation", "base year"], False),
        ("not_icontains", "INFLATION", True),
        ("not_icontains", "NOMINAL", False),
        ("regex", r"real GDP uses the prices of a \w+ year", True),
        ("regex", r"^real", False),
        ("not_regex", r"\d", True),
        ("not_regex", r"b\w+e year", False),
        ("equals", ANSWER, True),
        ("equals", ["other", ANSWER], True),
        ("equals", ANSWER.replace("base", "bass"), False),
        ("not_equals", "something else", True),
        ("not_equals", [ANSWER], False),
    ],
)
def test_text_matchers(name: str, arg: Any, passes: bool, check_on: Any, make_outcome: Any) -> None:
    result = check_on(name, arg, make_outcome(ANSWER))
    assert result.passed is passes, result.message


def test_text_matcher_messages_say_expected_got_and_where(check_on: Any, make_outcome: Any) -> None:
    outcome = make_outcome(ANSWER)
    assert check_on("contains", "inflation", outcome).message.startswith(
        "expected the text to contain 'inflation', not found in «Nominal GDP"
    )
    assert check_on("icontains", "INFLATION", outcome).message.startswith(
        "expected the text to contain 'INFLATION' (ignoring case)"
    )
    message = check_on("not_contains", "base year", outcome).message
    assert message.startswith(f"expected the text not to contain 'base year', found at offset {BASE}: «")
    assert "base year" in message
    assert f"matched 'base year' at offset {BASE}" in check_on("not_regex", r"b\w+e year", outcome).message
    assert check_on("regex", r"^real", outcome).message.startswith("expected a match for /^real/, none in «")
    equals = check_on("equals", ANSWER.replace("base", "bass"), outcome).message
    assert f"differs at offset {BASE + 3}" in equals
    assert "expected «" in equals
    assert "bass year" in equals
    assert "it is exactly that" in check_on("not_equals", ANSWER, outcome).message
    assert "bad argument '(': $: '(' is not a 'regex'" in check_on("regex", "(", outcome).message
