"""What every adapter shares: a service that goes away is one error, a runaway response is a named problem
read no further than the limit, and a stream left early is closed on its own loop."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from harness._delivery import SseAdapter, SyncAdapter
from harness._errors import ServiceUnreachable
from harness._model._spec import EndpointSpec, OutputPointers
from tests.support.scripted_http import END, RawRequest, chunk, deliver_scripted, head

SYNC = EndpointSpec(path="/qa", delivery="sync", output=OutputPointers(text="/text"))
SSE = EndpointSpec(path="/stream", delivery="sse")


async def hang_up(request: RawRequest) -> AsyncIterator[bytes | float]:
    """Reads the request, answers nothing, closes: a service killed mid-run."""
    return
    yield b""


async def huge_json(request: RawRequest) -> AsyncIterator[bytes | float]:
    yield head(200, "application/json")
    yield chunk(b'{"text": "')
    for _ in range(64):
        yield chunk(b"x" * 65536)  # 4 MB in all, well past the 1 MB limit below
    yield chunk(b'"}')
    yield END


async def endless_stream(request: RawRequest) -> AsyncIterator[bytes | float]:
    yield head()
    for _ in range(2000):
        yield chunk(b"data: " + b"y" * 4096 + b"\n\n")
    yield END


def deliver(adapter: Any, handler: Any, spec: EndpointSpec, **request: Any) -> Any:
    return asyncio.run(deliver_scripted(adapter, handler, endpoint="qa", spec=spec, timeout_s=20, **request))


@pytest.mark.parametrize(("adapter", "spec"), [(SyncAdapter(), SYNC), (SseAdapter(), SSE)])
def test_a_connection_that_breaks_before_any_response_is_one_error_naming_the_fix(
    adapter: Any, spec: EndpointSpec
) -> None:
    with pytest.raises(ServiceUnreachable) as info:
        deliver(adapter, hang_up, spec, json={})
    message = str(info.value)
    assert message.startswith("qa: POST http://127.0.0.1:")
    assert "the connection broke before any response" in message
    assert "Did the service stop or restart?" in message
    assert info.value.__cause__ is None  # one message: no chain that repeats it


def test_a_response_past_the_limit_is_a_named_problem_and_reading_stops() -> None:
    outcome, _ = deliver(SyncAdapter(), huge_json, SYNC, json={}, max_bytes=1024 * 1024)
    assert [p.kind for p in outcome.problems] == ["response_too_large"]
    assert "passed 1,048,576 bytes" in outcome.problems[0].message
    assert "--harness-max-response-size" in outcome.problems[0].message
    assert outcome.text is None
    assert outcome.body is None  # nothing of the runaway body was kept


def test_a_stream_past_the_limit_is_a_named_problem() -> None:
    outcome, _ = deliver(SseAdapter(), endless_stream, SSE, json={}, max_bytes=512 * 1024)
    kinds = [p.kind for p in outcome.problems]
    assert kinds == ["response_too_large"]
    assert len(outcome.text or "") <= 512 * 1024


def test_within_the_limit_nothing_changes() -> None:
    outcome, _ = deliver(SyncAdapter(), huge_json, SYNC, json={})
    assert outcome.problems == []
    assert len(outcome.text) == 64 * 65536


def test_a_stream_left_at_its_terminator_is_closed_on_its_own_loop() -> None:
    async def data_after_done(request: RawRequest) -> AsyncIterator[bytes | float]:
        yield head()
        yield chunk(b"data: hello\n\ndata: [DONE]\n\n")
        yield chunk(b"data: after the end\n\n")
        yield 0.2
        yield END

    unraisable: list[Any] = []
    previous = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        outcome, _ = deliver(SseAdapter(), data_after_done, SSE, json={})
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert outcome.text == "hello"
    assert outcome.problems == []
    assert unraisable == []
