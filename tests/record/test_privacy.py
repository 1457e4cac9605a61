"""Nothing secret or personal is kept: credentials masked, emails and phones replaced by stable stand-ins."""

from __future__ import annotations

from harness._record._privacy import Scrubber

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


def test_emails_and_phone_numbers_become_stable_stand_ins() -> None:
    scrubber = Scrubber()
    first = scrubber.scrub({"message": "Write to Jane.Doe@corp.example or call +44 20 7946 0958."})
    again = scrubber.scrub({"to": "jane.doe@corp.example", "phone": "+44 20 7946 0958"})
    text = first["message"]
    assert "Jane.Doe" not in text
    assert "7946" not in text
    assert again["to"] in text  # the same address, the same stand-in (case does not matter)
    assert again["phone"] in text
    assert again["phone"].startswith("+1 555-01")
    assert again["to"].endswith("@example.com")


def test_stand_ins_depend_on_the_recording_key() -> None:
    value = {"to": "jane@corp.example"}
    assert Scrubber(key=b"a" * 16).scrub(value) != Scrubber(key=b"b" * 16).scrub(value)


def test_credentials_and_token_like_values_are_masked_ids_are_kept() -> None:
    scrubber = Scrubber()
    scrubber.add_secret("the-qa-token-value")
    scrubbed = scrubber.scrub(
        {
            "password": "hunter2",
            "note": f"token {JWT} key sk-abcdefghijklmnop1234 qa the-qa-token-value",
            "conversation_id": "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f",
            "course": "Biology 101, exam on 2024-01-15",
        }
    )
    assert scrubbed["password"] == "***"
    assert scrubbed["note"] == "token *** key *** qa ***"
    assert scrubbed["conversation_id"] == "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f"
    assert scrubbed["course"] == "Biology 101, exam on 2024-01-15"


def test_scrubbing_twice_changes_nothing_more() -> None:
    scrubber = Scrubber()
    once = scrubber.scrub({"m": "write to jo@corp.example or call +44 20 7946 0958"})
    assert scrubber.scrub(once) == once
