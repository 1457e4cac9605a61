"""SseAdapter against real loopback servers that send exact bytes, including misbehaving streams."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from harness._delivery import Request, SseAdapter
from harness._delivery._outcome import Outcome
from harness._errors import ServiceUnreachable
from harness._model._spec import EndpointSpec, OutputPointers
from tests.support.scripted_http import (
    END,
    RawRequest,
    chunk,
    deliver_scripted,
    head,
    json_response,
    refused_url,
)

SPEC = EndpointSpec(
    path="/chat/stream",
    delivery="sse",
    output=OutputPointers(sources="/sources", metadata={"model_version": "/model_version"}),
)
END_EVENT = b'event: end\ndata: {"model_version": "m1", "sources": ["doc-1", "doc-2"]}\n\n'
DONE = b"data: [DONE]\n\n"


def stream(*steps: bytes | float, status: int = 200, content_type: str = "text/event-stream; charset=utf-8") -> Any:
    """A handler that sends a chunked response: each bytes step is one chunk, a float a pause."""

    async def handler(request: RawRequest) -> AsyncIterator[bytes | float]:
        yield head(status, content_type)
        for step in steps:
            yield step if isinstance(step, float) else chunk(step)
        yield END

    return handler


def deliver(handler: Any, timeout_s: float = 5.0, **request: Any) -> Outcome:
    """Serve ``handler``, deliver one request to it, return the Outcome."""
    outcome, _ = asyncio.run(
        deliver_scripted(
            SseAdapter(), handler, endpoint="prod", spec=SPEC, json={"message": "hi"}, timeout_s=timeout_s, **request
        )
    )
    return outcome


def kinds(outcome: Outcome) -> list[str]:
    return [problem.kind for problem in outcome.problems]


def test_happy_stream_gives_text_body_sources_and_metadata() -> None:
    outcome = deliver(stream(b"data: Hello\n\n", b"data: , world\n\n", END_EVENT, DONE))
    assert kinds(outcome) == []
    assert outcome.status == 200
    assert outcome.text == "Hello, world"
    assert outcome.body == {"model_version": "m1", "sources": ["doc-1", "doc-2"]}
    assert outcome.sources == ["doc-1", "doc-2"]
    assert outcome.metadata == {"model_version": "m1"}
    assert outcome.timings.ttft_s is not None
    assert outcome.timings.total_s is not None
    assert 0 < outcome.timings.ttft_s <= outcome.timings.total_s
    assert "< data: Hello" in outcome.transcript
    assert outcome.request["headers"]["Accept"] == "text/event-stream"


def test_utf8_character_split_across_chunks_survives() -> None:
    text = "café € 🙂"
    raw = b"data: " + text.encode() + b"\n\n"
    cut1 = raw.index("é".encode()) + 1  # inside the 2-byte é
    cut2 = raw.index("€".encode()) + 2  # inside the 3-byte €
    cut3 = raw.index("🙂".encode()) + 1  # inside the 4-byte emoji
    outcome = deliver(stream(raw[:cut1], raw[cut1:cut2], raw[cut2:cut3], raw[cut3:], DONE))
    assert kinds(outcome) == []
    assert outcome.text == text


def test_wrong_charset_header_is_ignored_and_utf8_is_used() -> None:
    outcome = deliver(stream("data: Grüße\n\n".encode(), DONE, content_type="text/event-stream; charset=latin-1"))
    assert outcome.text == "Grüße"


def test_crlf_and_lone_cr_line_endings() -> None:
    outcome = deliver(stream(b"data: one\r\n\r\n", b"data: two\r", b"\n\r\n", b"data: three\r\r", DONE))
    assert kinds(outcome) == []
    assert outcome.text == "onetwothree"


def test_comments_are_ignored() -> None:
    outcome = deliver(stream(b": keep-alive\n\n", b"data: a\n: in the middle\ndata: b\n\n", b":ping\n\n", DONE))
    assert outcome.text == "a\nb"
    assert kinds(outcome) == []


def test_leading_bom_is_stripped_even_when_split() -> None:
    outcome = deliver(stream(b"\xef\xbb", b"\xbfdata: first\n\n", DONE))
    assert outcome.text == "first"
    assert "\ufeff" not in (outcome.text or "")


def test_empty_events_are_skipped_and_ttft_waits_for_real_text() -> None:
    outcome = deliver(stream(b"data:\n\n", b"data: \n\n", 0.25, b"data: x\n\n", DONE))
    assert outcome.text == "x"
    assert outcome.timings.ttft_s is not None
    assert outcome.timings.ttft_s >= 0.25


def test_multiline_data_is_joined_with_newlines() -> None:
    outcome = deliver(stream(b"data: line one\ndata: line two\n\n", b"data:  indented\n\n", DONE))
    # One leading space after the colon is the field separator; the second one is content.
    assert outcome.text == "line one\nline two indented"


def test_missing_terminator_is_a_named_problem() -> None:
    outcome = deliver(stream(b"data: partial\n\n", END_EVENT))
    assert kinds(outcome) == ["stream_no_terminator"]
    assert "[DONE]" in outcome.problems[0].message
    assert outcome.text == "partial"


def test_unfinished_last_event_does_not_count_as_terminator() -> None:
    # No blank line after [DONE]: per the SSE spec the event was never dispatched; its bytes are quoted.
    outcome = deliver(stream(b"data: a\n\n", b"data: [DONE]\n"))
    assert kinds(outcome) == ["stream_incomplete_event"]
    assert "which SSE discards: 'data: [DONE]'" in outcome.problems[0].message
    assert outcome.text == "a"


def test_an_error_event_without_its_blank_line_is_quoted_not_lost() -> None:
    outcome = deliver(stream(b"data: a\n\n", b'event: error\ndata: {"message": "quota exceeded"}'))
    assert kinds(outcome) == ["stream_incomplete_event"]
    assert """'event: error / data: {"message": "quota exceeded"}'""" in outcome.problems[0].message


def test_error_event_is_reported_with_its_data() -> None:
    outcome = deliver(stream(b"data: a\n\n", b'event: error\ndata: {"message": "model overloaded"}\n\n'))
    assert kinds(outcome) == ["stream_error_event"]
    assert "model overloaded" in outcome.problems[0].message


def test_end_event_that_is_not_json() -> None:
    outcome = deliver(stream(b"data: a\n\n", b"event: end\ndata: not json\n\n", DONE))
    assert kinds(outcome) == ["stream_bad_end_event"]


def test_stalled_stream_hits_the_wall_clock_deadline_quickly() -> None:
    started = time.perf_counter()
    outcome = deliver(stream(b"data: so far\n\n", 30.0, DONE), timeout_s=0.4)
    elapsed = time.perf_counter() - started
    assert kinds(outcome) == ["timeout"]
    assert "[DONE]" in outcome.problems[0].message
    assert "0.4 s" in outcome.problems[0].message
    assert outcome.text == "so far"
    assert elapsed < 2.0


def test_trickling_stream_cannot_outlive_the_deadline() -> None:
    # A byte every 0.1 s never trips a per-read timeout; only a wall-clock deadline stops it.
    outcome = deliver(stream(*[b": tick\n" if i % 2 else 0.1 for i in range(60)]), timeout_s=0.5)
    assert kinds(outcome) == ["timeout"]
    assert outcome.timings.total_s is not None
    assert outcome.timings.total_s < 1.5


def test_422_json_body_is_passed_through_without_problem() -> None:
    detail = {"detail": [{"loc": ["body", "message"], "msg": "Field required"}]}

    async def handler(request: RawRequest) -> AsyncIterator[bytes | float]:
        yield json_response(422, detail)

    outcome = deliver(handler)
    assert outcome.status == 422
    assert outcome.body == detail
    assert outcome.problems == []
    assert outcome.text is None


def test_2xx_that_is_not_an_event_stream_is_a_problem() -> None:
    async def handler(request: RawRequest) -> AsyncIterator[bytes | float]:
        yield json_response(200, {"reply": "hi"})

    outcome = deliver(handler)
    assert kinds(outcome) == ["stream_not_event_stream"]
    assert outcome.body == {"reply": "hi"}


def test_connection_dropped_mid_stream() -> None:
    async def handler(request: RawRequest) -> AsyncIterator[bytes | float]:
        yield head()
        yield chunk(b"data: a\n\n")
        yield b"5\r\ndat"  # then the connection closes inside a chunk

    outcome = deliver(handler)
    assert kinds(outcome) == ["stream_interrupted"]
    assert outcome.text == "a"


def test_connection_refused_raises_service_unreachable() -> None:
    url = refused_url()

    async def main() -> None:
        async with httpx.AsyncClient() as client:
            await SseAdapter().deliver(
                client, Request(endpoint="prod", method="POST", url=url + "/chat/stream", spec=SPEC, json={})
            )

    with pytest.raises(ServiceUnreachable, match="--base-url") as excinfo:
        asyncio.run(main())
    assert url in str(excinfo.value)


def test_secrets_are_masked_in_request_record_and_transcript() -> None:
    token = "qa-token-123456"
    outcome = deliver(
        stream(f"data: echo {token}\n\n".encode(), DONE),
        headers={"Authorization": f"Bearer {token}"},
        secrets=(token,),
    )
    assert outcome.request["headers"]["Authorization"] == "Bearer ***"
    assert not any(token in line for line in outcome.transcript)
    # The Outcome's text is the service's output and stays as delivered; only records are masked.
    assert outcome.text == f"echo {token}"
