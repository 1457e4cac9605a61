"""Records stay small whatever a service sends: cut with a visible marker that gives the whole size."""

from __future__ import annotations

import json

from harness._delivery._outcome import Outcome
from harness._report.records import BODY_LIMIT, TEXT_LIMIT, TRANSCRIPT_LIMIT, outcome_record


def test_a_huge_reply_is_cut_with_a_marker_in_text_body_and_transcript() -> None:
    reply = "word " * 2_000_000  # 10 MB
    outcome = Outcome(endpoint="prod", delivery="sse", status=200, text=reply, body={"reply": reply})
    outcome.transcript = [f"< data: {'x' * 100}" for _ in range(100_000)]
    record = outcome_record(outcome)
    assert record["text"].startswith("word word")
    assert record["text"].endswith("… [truncated, 10,000,000 bytes in all]")
    assert len(record["text"]) < TEXT_LIMIT + 100
    assert isinstance(record["body"], str)
    assert len(record["body"]) < BODY_LIMIT + 100
    assert "bytes in all]" in record["body"]
    assert record["transcript"][-1] == "… [transcript truncated, 100,000 lines, 10,900,000 bytes in all]"
    assert sum(len(line) for line in record["transcript"]) <= TRANSCRIPT_LIMIT
    assert len(json.dumps(record)) < 400_000


def test_small_outputs_are_kept_whole() -> None:
    outcome = Outcome(endpoint="qa", delivery="sync", status=200, text="café", body={"reply": "café", "n": 1})
    outcome.transcript = ["> POST /x", "< 200 OK"]
    record = outcome_record(outcome)
    assert (record["text"], record["body"], record["transcript"]) == (
        "café",
        {"reply": "café", "n": 1},
        ["> POST /x", "< 200 OK"],
    )


def test_huge_integers_a_service_sends_still_travel_to_the_xdist_controller() -> None:
    import execnet

    outcome = Outcome(endpoint="qa", delivery="sync", status=200, body={"n": -(10**30), "ok": [1, 2**70]})
    outcome.metadata = {"seed": -(2**64)}
    record = outcome_record(outcome)
    assert record["body"] == {"n": str(-(10**30)), "ok": [1, str(2**70)]}
    assert record["metadata"] == {"seed": str(-(2**64))}
    assert execnet.loads(execnet.dumps(record))["body"]["n"] == str(-(10**30))
