"""SSE delivery: a Server-Sent-Events stream of text deltas, an end event with metadata, a terminator.

Built on httpx-sse (``aconnect_sse`` / ``EventSource.aiter_sse``), which parses events per the WHATWG
spec (CR, LF and CRLF line ends, comments, multi-line ``data:`` joined with newlines, an unterminated
last event discarded). On top of it, the guards a harness needs and a browser would not:

- the body is decoded as UTF-8 whatever the ``charset`` parameter claims, incrementally, so a
  multi-byte character split across network chunks survives, and a leading BOM is dropped;
- events with no data are skipped rather than counted as empty deltas;
- one wall-clock deadline bounds the whole stream, so a service that trickles bytes forever cannot
  hold a test hostage (httpx's own read timeout restarts at every chunk);
- the terminator (``[DONE]``) is required: a stream that ends without it was cut short.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field

import httpx
from httpx_sse import EventSource, ServerSentEvent, aconnect_sse

from harness._delivery._base import Request
from harness._delivery._record import (
    UNREACHABLE_ERRORS,
    extract_output,
    new_outcome,
    record_body,
    record_response,
    send_options,
    unreachable,
)
from harness._outcome import Outcome, Problem, is_success
from harness._redact import redact_text
from harness._spec import SseSpec

# Names a plain data event may carry: none (the spec's default "message") or "message" spelled out.
_DELTA_EVENTS = frozenset({"message"})

# What aconnect_sse sends; repeated here so the request record (and the curl built from it) matches.
_SSE_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-store"}


@dataclass
class _Stream:
    """What has been read so far, kept outside the reading coroutine so a timeout does not lose it."""

    deltas: list[str] = field(default_factory=list)
    events: int = 0
    terminated: bool = False
    error_event: bool = False
    reading_body: bool = False


class SseAdapter:
    """Reads an event stream into one Outcome: text = the deltas joined, body = the end event's JSON.

    Problems: ``stream_no_terminator`` (ended without ``spec.sse.terminator``), ``stream_error_event``
    (an event named ``spec.sse.error_event``; its data is the message), ``stream_bad_end_event`` (end
    event data is not JSON), ``stream_not_event_stream`` (2xx but not ``text/event-stream``),
    ``stream_interrupted`` (the connection broke mid-stream), ``timeout`` (the stream did not finish
    within ``request.timeout_s``). A non-2xx response is recorded with its body and no problem.
    """

    delivery = "sse"

    async def deliver(self, client: httpx.AsyncClient, request: Request) -> Outcome:
        """Send ``request``, read the stream to its terminator or the deadline, and return the Outcome."""
        outcome = new_outcome(request, self.delivery, _SSE_HEADERS)
        stream = _Stream()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(request.timeout_s):
                await self._read(client, request, outcome, stream, started)
        except UNREACHABLE_ERRORS as exc:
            raise unreachable(request, exc) from exc
        except (TimeoutError, httpx.TimeoutException):
            outcome.problems.append(Problem("timeout", _timeout_message(request, outcome, stream)))
            outcome.transcript.append(f"! deadline of {request.timeout_s:g} s reached")
        except httpx.TransportError as exc:
            kind = "stream_interrupted" if outcome.status is not None else "transport_error"
            outcome.problems.append(
                Problem(kind, f"{request.method} {outcome.request['url']}: connection broke: {exc!r}")
            )
            outcome.transcript.append(f"! {exc!r}")
        outcome.timings.total_s = time.perf_counter() - started
        if stream.reading_body:
            outcome.text = "".join(stream.deltas)
        return outcome

    async def _read(
        self,
        client: httpx.AsyncClient,
        request: Request,
        outcome: Outcome,
        stream: _Stream,
        started: float,
    ) -> None:
        """Open the stream and consume it; raises on transport errors and at the deadline."""
        sse = request.spec.sse
        async with aconnect_sse(client, request.method, request.url, **send_options(request)) as source:
            response = source.response
            record_response(outcome, response, request, time.perf_counter() - started)
            media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
            if not is_success(response.status_code) or media_type != "text/event-stream":
                await response.aread()
                record_body(outcome, response, request)
                if is_success(response.status_code):
                    outcome.problems.append(
                        Problem(
                            "stream_not_event_stream",
                            f"expected Content-Type text/event-stream, got {media_type or 'none'!r} "
                            f"with status {response.status_code}",
                        )
                    )
                return
            # Force UTF-8 before anything reads the body: a wrong charset parameter must not turn
            # the text into mojibake here (a no-mojibake check should see what the service sent).
            # "utf-8-sig" also drops a leading BOM, even one split across chunks.
            response.encoding = "utf-8-sig"
            stream.reading_body = True
            outcome.transcript.append("<")
            await self._consume(source, request, outcome, stream, started, sse)

    async def _consume(
        self,
        source: EventSource,
        request: Request,
        outcome: Outcome,
        stream: _Stream,
        started: float,
        sse: SseSpec,
    ) -> None:
        """Apply each event to the Outcome until the terminator or the end of the body."""
        async with contextlib.aclosing(source.aiter_sse()) as events:
            async for event in events:
                stream.events += 1
                outcome.transcript.extend(_render(event, request.secrets))
                if sse.error_event is not None and event.event == sse.error_event:
                    stream.error_event = True
                    outcome.problems.append(
                        Problem(
                            "stream_error_event",
                            redact_text(event.data, request.secrets) or f"(event {event.event!r} with no data)",
                        )
                    )
                elif sse.terminator is not None and event.data == sse.terminator:
                    stream.terminated = True
                    # Anything after the terminator is not part of the reply; stop reading.
                    break
                elif sse.end_event is not None and event.event == sse.end_event:
                    try:
                        outcome.body = json.loads(event.data)
                    except ValueError:
                        outcome.body = event.data
                        outcome.problems.append(
                            Problem(
                                "stream_bad_end_event",
                                f"the {sse.end_event!r} event's data is not JSON: {event.data[:200]!r}",
                            )
                        )
                elif event.event in _DELTA_EVENTS and event.data:
                    if outcome.timings.ttft_s is None:
                        outcome.timings.ttft_s = time.perf_counter() - started
                    stream.deltas.append(event.data)
        if sse.terminator is not None and not stream.terminated and not stream.error_event:
            outcome.problems.append(
                Problem(
                    "stream_no_terminator",
                    f"the stream ended after {stream.events} events without the terminator "
                    f"'data: {sse.terminator}'; the reply may be truncated",
                )
            )
            outcome.transcript.append("! end of stream without terminator")
        extract_output(outcome, request.spec.output, text=False)


def _render(event: ServerSentEvent, secrets: tuple[str, ...]) -> list[str]:
    """An event as it would appear on the wire (normalised: LF line ends, comments dropped)."""
    lines = []
    if event.event != "message":
        lines.append(f"event: {event.event}")
    if event.id:
        lines.append(f"id: {event.id}")
    lines.extend(f"data: {line}" for line in redact_text(event.data, secrets).split("\n"))
    return [f"< {line}" for line in lines] + ["<"]


def _timeout_message(request: Request, outcome: Outcome, stream: _Stream) -> str:
    """Says what was being waited for when the deadline ran out."""
    where = f"{request.method} {outcome.request['url']}"
    if outcome.status is None:
        return f"no response from {where} within {request.timeout_s:g} s"
    if not stream.reading_body:
        return f"the body of {where} did not arrive within {request.timeout_s:g} s"
    terminator = request.spec.sse.terminator
    awaited = f"the terminator 'data: {terminator}'" if terminator is not None else "the end of the stream"
    return (
        f"stream from {where} still open after {request.timeout_s:g} s, waiting for {awaited}; "
        f"{stream.events} events ({len(stream.deltas)} text deltas) received so far"
    )
