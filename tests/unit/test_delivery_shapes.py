"""General SSE shapes and poll delivery against hand-made bytes on loopback (real frameworks' bytes: tests/wire)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from harness._delivery import PollAdapter, Request, SseAdapter
from harness._delivery._outcome import Outcome
from harness._model._spec import EndpointSpec
from tests.support.scripted_http import END, RawRequest, ScriptedServer, chunk, head, json_response


def sse_spec(**sse: Any) -> EndpointSpec:
    return EndpointSpec.model_validate(
        {"path": "/s", "delivery": "sse", "sse": sse, "output": {"metadata": {"model": "/model"}}}
    )


def stream(*events: bytes) -> Any:
    async def handler(request: RawRequest) -> AsyncIterator[bytes | float]:
        yield head()
        for event in events:
            yield chunk(event)
        yield END

    return handler


def run(adapter: Any, spec: EndpointSpec, handler: Any, timeout_s: float = 5.0) -> tuple[Outcome, list[RawRequest]]:
    async def main() -> tuple[Outcome, list[RawRequest]]:
        async with ScriptedServer(handler) as server, httpx.AsyncClient() as client:
            request = Request(
                endpoint="prod",
                method="POST",
                url=server.url + spec.path,
                base_url=server.url,
                spec=spec,
                json={"q": 1},
                timeout_s=timeout_s,
            )
            return await adapter.deliver(client, request), server.requests

    return asyncio.run(main())


def kinds(outcome: Outcome) -> list[str]:
    return [p.kind for p in outcome.problems]


# ---------------------------------------------------------------- SSE


def test_named_json_string_deltas_with_pings_comments_and_an_end_event_without_data() -> None:
    spec = sse_spec(delta_event="data", delta="json_string", terminator=None, end_event="end")
    outcome, _ = run(
        SseAdapter(),
        spec,
        stream(
            b": keep-alive\r\n\r\n",
            b'event: data\r\ndata: "caf\xc3\xa9"\r\n\r\n',
            b"event: ping\r\ndata: {}\r\n\r\n",
            b'event: data\r\ndata: ""\r\n\r\nevent: data\r\ndata: "\\n ok"\r\n\r\n',
            b"event: end\r\n\r\n",
        ),
    )
    assert kinds(outcome) == []
    assert outcome.text == "café\n ok"


def test_json_deltas_metadata_from_the_last_chunk_that_has_it() -> None:
    spec = sse_spec(delta="json", text="/d")
    outcome, _ = run(
        SseAdapter(),
        spec,
        stream(
            b'data: {"d": "a", "model": "m1"}\n\n',
            b'data: {"d": "b"}\n\n',
            b'data: {"model": "m2"}\n\n',
            b"data: [DONE]\n\n",
        ),
    )
    assert (outcome.text, outcome.metadata, kinds(outcome)) == ("ab", {"model": "m2"}, [])
    first, _ = run(
        SseAdapter(),
        sse_spec(delta="json", text="/d", metadata_from="first"),
        stream(b'data: {"d": "a", "model": "m1"}\n\n', b'data: {"model": "m2"}\n\n', b"data: [DONE]\n\n"),
    )
    assert first.metadata == {"model": "m1"}


def test_body_close_ends_a_stream_that_declares_no_end() -> None:
    outcome, _ = run(SseAdapter(), sse_spec(terminator=None, end_event=None), stream(b"data: a\n\n", b"data: b\n\n"))
    assert (outcome.text, kinds(outcome)) == ("ab", [])


@pytest.mark.parametrize(
    ("sse", "first", "data", "kind"),
    [
        ({"delta": "json_string"}, b'data: "x"\n\n', b"data: not json\n\n", "stream_bad_delta"),
        ({"delta": "json", "text": "/d"}, b'data: {"d": "x"}\n\n', b'data: {"d": 5}\n\n', "stream_bad_delta"),
        (
            {"delta": "json", "text": "/d", "error": "/error"},
            b'data: {"d": "x"}\n\n',
            b'data: {"error": {"message": "boom"}}\n\n',
            "stream_error_chunk",
        ),
        ({}, b"data: x\n\n", b"event: error\ndata: overloaded\n\n", "stream_error_event"),
    ],
)
def test_deltas_that_do_not_decode_and_in_band_errors_are_named(
    sse: dict[str, Any], first: bytes, data: bytes, kind: str
) -> None:
    outcome, _ = run(SseAdapter(), sse_spec(**sse), stream(first, data, b"data: [DONE]\n\n"))
    assert kinds(outcome) == [kind]
    assert outcome.text == "x"  # the partial text is kept for the report; the problem fails the item


def test_end_event_without_terminator_missing_is_named() -> None:
    spec = sse_spec(delta_event="data", delta="json_string", terminator=None, end_event="end")
    outcome, _ = run(SseAdapter(), spec, stream(b'event: data\ndata: "a"\n\n'))
    assert kinds(outcome) == ["stream_no_terminator"]
    assert "without the 'end' event" in outcome.problems[0].message


# ---------------------------------------------------------------- poll

POLL = {
    "path": "/jobs",
    "delivery": "poll",
    "output": {"text": "/answer"},
    "poll": {
        "job_id": "/id",
        "status": {
            "path": "/jobs/{id}",
            "pointer": "/state",
            "pending": ["queued", "running"],
            "success": ["done"],
            "failure": ["error"],
        },
        "interval_s": 0.02,
        "max_interval_s": 0.05,
    },
}


def jobs(*states: dict[str, Any], submit: tuple[int, Any] = (202, {"id": "j/1"})) -> Any:
    """Submit answers ``submit``; each status request answers the next state (the last repeats)."""
    answers = list(states)

    async def handler(request: RawRequest) -> AsyncIterator[bytes | float]:
        if request.method == "POST":
            yield json_response(*submit)
        else:
            yield json_response(200, answers.pop(0) if len(answers) > 1 else answers[0])

    return handler


def test_poll_until_done_result_in_the_status_body() -> None:
    spec = EndpointSpec.model_validate(POLL)
    outcome, requests = run(
        PollAdapter(), spec, jobs({"state": "queued"}, {"state": "running"}, {"state": "done", "answer": "42"})
    )
    assert (outcome.status, outcome.text, kinds(outcome)) == (200, "42", [])
    assert [r.path for r in requests] == ["/jobs", "/jobs/j%2F1", "/jobs/j%2F1", "/jobs/j%2F1"]
    assert sum(line.startswith("> GET") for line in outcome.transcript) == 3


def test_failed_job_is_named_with_the_status_body_quoted() -> None:
    outcome, _ = run(PollAdapter(), EndpointSpec.model_validate(POLL), jobs({"state": "error", "detail": "bad"}))
    assert (outcome.body, outcome.text, kinds(outcome)) == ({"state": "error", "detail": "bad"}, None, ["job_failed"])
    assert """ended with status 'error' at /state: {"state": "error", "detail": "bad"}""" in outcome.problems[0].message


def test_poll_gives_up_within_the_case_timeout_with_bounded_backoff() -> None:
    outcome, requests = run(PollAdapter(), EndpointSpec.model_validate(POLL), jobs({"state": "running"}), timeout_s=0.5)
    assert kinds(outcome) == ["timeout"]
    assert "job j/1 did not end within 0.5 s: last status 'running'" in outcome.problems[0].message
    assert 5 <= len(requests) <= 25  # backoff capped at max_interval_s, never a busy loop
    assert outcome.timings.total_s is not None
    assert outcome.timings.total_s < 1.0


@pytest.mark.parametrize(
    ("submit", "states", "kind"),
    [
        ((200, {"no": "id"}), [{"state": "done"}], "poll_no_job_id"),
        ((202, {"id": 7}), [{"state": "paused"}], "poll_unknown_status"),
    ],
)
def test_poll_problems_are_named(submit: tuple[int, Any], states: list[dict[str, Any]], kind: str) -> None:
    outcome, _ = run(PollAdapter(), EndpointSpec.model_validate(POLL), jobs(*states, submit=submit))
    assert kinds(outcome) == [kind]


def test_rejected_submit_is_recorded_like_sync() -> None:
    outcome, requests = run(
        PollAdapter(), EndpointSpec.model_validate(POLL), jobs({"state": "done"}, submit=(422, {"detail": []}))
    )
    assert (outcome.status, outcome.body, kinds(outcome), len(requests)) == (422, {"detail": []}, [], 1)
    assert json.loads(requests[0].body) == {"q": 1}
