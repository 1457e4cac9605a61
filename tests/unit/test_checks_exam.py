from __future__ import annotations

from typing import Any

import pytest

from tests.support.exam_samples import SEED, STRIPPED


@pytest.mark.parametrize(
    "name", ["exam_format", "question_count", "choices_present", "answer_key_valid", "no_answer_leak"]
)
def test_seed_exam_passes_every_exam_check(name: str, check_on: Any, make_outcome: Any) -> None:
    result = check_on(name, None, make_outcome(SEED), input={"num_questions": 2})
    assert result.passed, result.message


def test_exam_format_lists_problems_with_lines(check_on: Any, make_outcome: Any) -> None:
    text = SEED.replace("\n\n2.", "\n2.").replace("Correct Answer: c)", "Answer: c")
    result = check_on("exam_format", None, make_outcome(text))
    assert not result.passed
    assert result.message.startswith("exam format: ")
    assert "question 1, line 6: unexpected text after choice d): 'Answer: c'" in result.message
    assert "question 2, line 7: no blank line before the question" in result.message
    assert "question 1, line 1: no answer line" in result.message


def test_exam_format_on_non_exam_text(check_on: Any, make_outcome: Any) -> None:
    result = check_on("exam_format", None, make_outcome("I cannot write that exam."))
    assert not result.passed
    assert "no numbered questions found" in result.message
    assert "I cannot write that exam." in result.message


def test_question_count_from_input_and_from_arg(check_on: Any, make_outcome: Any) -> None:
    outcome = make_outcome(SEED)
    assert check_on("question_count", 2, outcome).passed
    failed = check_on("question_count", None, outcome, input={"num_questions": 5})
    assert not failed.passed
    assert failed.message == "expected 5 questions, got 2 (numbered 1, 2)"
    no_number = check_on("question_count", None, outcome, input={"course": "x"})
    assert "needs a number" in no_number.message


def test_choices_present_names_the_questions_without_choices(check_on: Any, make_outcome: Any) -> None:
    result = check_on("choices_present", None, make_outcome(STRIPPED))
    assert not result.passed
    assert result.message == "choices missing: 2 of 2 questions have no choices: question(s) 1, 2"
    short = SEED.replace("d)  Bacterial cell\n", "")
    result = check_on("choices_present", None, make_outcome(short))
    assert result.message == "choices missing: question 2 has 3 choice(s) (a-c), expected at least 4"
    assert check_on("choices_present", 3, make_outcome(short)).passed


def test_choices_present_on_non_exam(check_on: Any, make_outcome: Any) -> None:
    result = check_on("choices_present", None, make_outcome("Sorry, no exam today."))
    assert not result.passed
    assert "expected an exam with numbered questions, got no questions in «Sorry, no exam today.»" in result.message


def test_answer_key_valid_flags_unknown_and_missing_answers(check_on: Any, make_outcome: Any) -> None:
    text = SEED.replace("Correct Answer: c)", "Correct Answer: e)").replace("Correct Answers: b) and d)\n", "")
    result = check_on("answer_key_valid", None, make_outcome(text))
    assert not result.passed
    assert "question 1 (line 6): answer e) names no choice (choices: a-d)" in result.message
    assert "question 2 (line 8): no answer line" in result.message


def test_no_answer_leak_in_stem(check_on: Any, make_outcome: Any) -> None:
    text = SEED.replace("Which organelle generates ATP?", "Which organelle, the Mitochondria, generates ATP?")
    result = check_on("no_answer_leak", None, make_outcome(text))
    assert not result.passed
    assert "question 1 (line 1): the stem gives away the answer c) 'Mitochondria'" in result.message


def test_no_answer_leak_marker_in_choice(check_on: Any, make_outcome: Any) -> None:
    text = SEED.replace("c)  Mitochondria", "c)  Mitochondria (correct)")
    result = check_on("no_answer_leak", None, make_outcome(text))
    assert not result.passed
    assert "question 1 (line 4): choice c) contains '(correct)'" in result.message
    stem = SEED.replace("generates ATP?", "generates ATP? The correct answer is c")
    assert "stem contains 'correct answer'" in check_on("no_answer_leak", None, make_outcome(stem)).message


def test_stem_that_lists_every_option_is_not_a_leak(check_on: Any, make_outcome: Any) -> None:
    text = SEED.replace(
        "Which organelle generates ATP?",
        "Of the Nucleus, Endoplasmic Reticulum, Mitochondria and Golgi Apparatus, which generates ATP?",
    )
    assert check_on("no_answer_leak", None, make_outcome(text)).passed
