from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    "text",
    ["café — 5 €", "naïve façade “quoted” – dash", "SÃO PAULO", "привет", "日本語", "x² + y² = z²", "plain ASCII"],  # noqa: RUF001
)
def test_no_mojibake_passes_correct_unicode(text: str, check_on: Any, make_outcome: Any) -> None:
    result = check_on("no_mojibake", None, make_outcome(text))
    assert result.passed, result.message


@pytest.mark.parametrize("text", ["cafÃ© â€” 5 â‚¬", "Ã¼ber", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "æ—¥æœ¬èªž", "The price is 5Â£"])  # noqa: RUF001
def test_no_mojibake_fails_mis_decoded_utf8(text: str, check_on: Any, make_outcome: Any) -> None:
    result = check_on("no_mojibake", None, make_outcome(text))
    assert not result.passed
    assert "mis-encoded UTF-8 at offset" in result.message


def test_no_mojibake_message_shows_the_repair(check_on: Any, make_outcome: Any) -> None:
    result = check_on("no_mojibake", None, make_outcome("The cafÃ© opens at 9."))
    assert result.message == (
        "expected correctly decoded text, found mis-encoded UTF-8 at offset 7: "
        "«The cafÃ© opens at 9.» should read «The café opens at 9.»"
    )


def test_no_mojibake_fails_replacement_characters(check_on: Any, make_outcome: Any) -> None:
    result = check_on("no_mojibake", None, make_outcome("Mitochondria \ufffd\ufffd powerhouse"))
    assert not result.passed
    assert "found 2 replacement character(s) U+FFFD" in result.message
    assert "first at offset 13" in result.message


@pytest.mark.parametrize(
    "text",
    [
        "Contact your instructor at [redacted email] or [redacted phone].",
        "Real GDP grew 2.5% in 2019 and 1,234,567 units were sold; see chapter 3.2, pages 10-12.",
        "1. Which year?\na) 1990\nb) 2000\nc) 2010\nd) 2020\nCorrect Answer: b)",
        "GDP was 21 000 000 000 dollars on 2024-01-15 at 10:30.",
    ],
)
def test_no_pii_passes_clean_text(text: str, check_on: Any, make_outcome: Any) -> None:
    result = check_on("no_pii", None, make_outcome(text))
    assert result.passed, result.message


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Write to jane.doe@example.edu for help.", "email address ja****************du at offset 9"),
        ("Call (555) 123-4567 today.", "phone number (5**********67 at offset 5"),
        ("Call 555-123-4567 today.", "phone number"),
        ("Ring +44 20 7946 0958 now.", "phone number +4************58 at offset 5"),
        ("Office: 020 7946 0958.", "phone number"),
        ("Büro: 030-12345678", "phone number"),
    ],
)
def test_no_pii_finds_emails_and_phones(text: str, kind: str, check_on: Any, make_outcome: Any) -> None:
    result = check_on("no_pii", None, make_outcome(text))
    assert not result.passed
    assert result.message.startswith("expected no personal data, found 1: ")
    assert kind in result.message
    assert "jane.doe" not in result.message  # the report does not repeat the personal data


def test_no_pii_allow_list(check_on: Any, make_outcome: Any) -> None:
    text = "Questions? help@university.edu"
    assert not check_on("no_pii", None, make_outcome(text)).passed
    assert check_on("no_pii", {"allow": ["help@university.edu"]}, make_outcome(text)).passed
