from __future__ import annotations

from harness._verdict._checks import parse_exam
from tests.support.exam_samples import SEED


def test_seed_format_parses_without_errors() -> None:
    exam = parse_exam(SEED)
    assert exam.errors == []
    assert exam.is_exam
    first, second = exam.questions
    assert (first.number, first.stem, first.line) == (1, "Which organelle generates ATP?", 1)
    assert first.choices == {
        "a": "Nucleus",
        "b": "Endoplasmic Reticulum",
        "c": "Mitochondria",
        "d": "Golgi Apparatus",
    }
    assert first.choice_lines == {"a": 2, "b": 3, "c": 4, "d": 5}
    assert (first.answers, first.answer_line) == (["c"], 6)
    assert second.answers == ["b", "d"]
    assert second.answer_text == "Correct Answers: b) and d)"
    assert exam.question(2) is second


def test_answer_line_labels_are_not_taken_for_merged_choices() -> None:
    exam = parse_exam(SEED.replace("Correct Answers: b) and d)", "Correct Answers: a) and c)"))
    assert exam.errors == []
    assert exam.questions[1].answers == ["a", "c"]
    assert list(exam.questions[1].choices) == ["a", "b", "c", "d"]


def test_three_answers_with_commas_are_accepted() -> None:
    text = SEED.replace("Correct Answers: b) and d)", "Correct Answers: a), b) and d)")
    exam = parse_exam(text)
    assert exam.errors == []
    assert exam.questions[1].answers == ["a", "b", "d"]


def test_merged_lines_are_recovered_and_reported() -> None:
    text = (
        "1. Which organelle generates ATP? a) Nucleus b) ER c) Mitochondria d) Golgi Correct Answer: c)\n"
        "\n"
        "2. The cell wall?\n"
        "a)  Animal cell b)  Fungal cell\n"
        "c)  Protozoan cell\n"
        "d)  Bacterial cell Correct Answers: b) and d)\n"
    )
    exam = parse_exam(text)
    first, second = exam.questions
    assert first.stem == "Which organelle generates ATP?"
    assert first.choices == {"a": "Nucleus", "b": "ER", "c": "Mitochondria", "d": "Golgi"}
    assert first.answers == ["c"]
    assert second.choices["a"] == "Animal cell"
    assert second.choices["b"] == "Fungal cell"
    assert second.answers == ["b", "d"]
    merged = [e for e in exam.errors if "share one line" in e.message]
    assert [e.line for e in merged] == [1, 4, 6]
    assert str(merged[0]).startswith("question 1, line 1: several items share one line")


def test_missing_choices_are_reported_per_question() -> None:
    text = "1. What is ATP?\nCorrect Answer: c)\n\n2. What is DNA?\na) x\nb) y\nc) z\nd) w\nCorrect Answer: a)\n"
    exam = parse_exam(text)
    assert exam.questions[0].choices == {}
    assert exam.questions[0].answers == ["c"]
    assert [str(e) for e in exam.errors] == ["question 1, line 1: no choices (expected a) to d))"]


def test_numbering_blank_lines_and_answer_format_errors() -> None:
    text = (
        "Here is your exam:\n"
        "1. First?\na) w\nb) x\nc) y\nd) z\nCorrect answer - B\n"
        "3. Third?\na) w\nb) x\nc) y\nCorrect Answers: c), d)\n"
    )
    messages = [str(e) for e in parse_exam(text).errors]
    assert messages[0] == "line 1: text before question 1: 'Here is your exam:'"
    assert "question 1, line 7: answer line 'Correct answer - B', expected 'Correct Answer: b)'" in messages
    assert "question 3, line 8: no blank line before the question" in messages
    assert "question 3, line 8: numbered 3, expected 2 (questions are numbered 1..N consecutively)" in messages
    assert "question 3, line 8: choices a), b), c), expected a), b), c), d) in order" in messages
    assert (
        "question 3, line 12: answer line 'Correct Answers: c), d)', expected 'Correct Answers: c) and d)'" in messages
    )


def test_alternative_labels_are_understood_but_flagged() -> None:
    text = "1. Pick one\n(a) w\nB. x\nc) y\nd) z\nCorrect Answer: b)\n"
    exam = parse_exam(text)
    assert list(exam.questions[0].choices) == ["a", "b", "c", "d"]
    assert exam.questions[0].choices["b"] == "x"
    flagged = [str(e) for e in exam.errors]
    assert flagged == [
        "question 1, line 2: choice label written '(a) ', expected 'a)'",
        "question 1, line 3: choice label written 'B. x', expected 'b)'",
    ]


def test_missing_answer_and_stray_text() -> None:
    text = (
        "1. Pick one\na) w\nb) x\nc) y\nd) z\nsome note\n\n"
        "2. Next\na) w\nb) x\nc) y\nd) z\nCorrect Answer: e)\nthanks!\n"
    )
    exam = parse_exam(text)
    messages = [str(e) for e in exam.errors]
    assert "question 1, line 6: unexpected text after choice d): 'some note'" in messages
    assert any(m.startswith("question 1, line 1: no answer line") for m in messages)
    assert "question 2, line 14: unexpected text after the answer line: 'thanks!'" in messages
    assert exam.questions[1].answers == ["e"]


def test_text_that_is_not_an_exam() -> None:
    exam = parse_exam("Sorry, I can't help with that.")
    assert not exam.is_exam
    assert exam.preamble == ["Sorry, I can't help with that."]
    assert str(exam.errors[0]).startswith("no numbered questions found")
    assert parse_exam("").questions == []
