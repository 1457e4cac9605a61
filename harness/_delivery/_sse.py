"""SSE delivery: a Server-Sent-Events stream of text deltas, read into one Outcome whatever its shape.

The spec's ``sse`` section says which events carry deltas (unnamed, or a name such as ``data``), how a
delta decodes (raw text, a JSON string, a JSON object with a pointer to the text), where metadata comes
from, how the stream ends (terminator data, an end event with or without data, or the body closing) and
how a failure shows (an error event, or an in-band JSON chunk with e.g. ``/error``).

Events are parsed per the WHATWG spec (CR, LF and CRLF line ends, comments ignored, multi-line ``data:``
joined with newlines, an unterminated last event discarded), line by line so that a body that is not SSE
at all can be named. One deviation, as httpx-sse makes it: an event with a name and no ``data`` field is
dispatched, because LangServe ends its streams with exactly that (``event: end``). On top, the guards a
harness needs and a browser would not:

- the body is decoded as UTF-8 whatever the ``charset`` parameter claims, incrementally, so a
  multi-byte character split across network chunks survives, and a leading BOM is dropped;
- one wall-clock deadline bounds the whole stream, so a service that trickles bytes forever cannot
  hold a test hostage (httpx's own read timeout restarts at every chunk);
- the stream must end the way the spec says: a stream that stops without its terminator or end event
  was cut short, and partial text is never a pass.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from harness._delivery._base import Request
from harness._delivery._exchange import (
    closing,
    delivery_errors,
    new_outcome,
    read_body,
    record_body,
    record_response,
    send_options,
    too_large,
)
from harness._delivery._outcome import Outcome, Problem, is_success
from harness._model._pointer import resolve_pointer
from harness._model._spec import OutputPointers, SseSpec
from harness._report.excerpts import clip
from harness._report.masking import redact_text

# What aconnect_sse sends; repeated here so the request record (and the curl built from it) matches.
_SSE_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-store"}

_FIELDS = frozenset({"event", "data", "id", "retry"})

_NOTHING = object()

_PENDING_LINES_KEPT = 20
"""Lines of an undispatched event kept to quote it (the size bound holds the rest)."""


@dataclass
class _Event:
    """One dispatched event."""

    name: str
    data: str
    has_data: bool


@dataclass
class _Decoder:
    """Lines in, events out (WHATWG event-stream interpretation, plus named events without data)."""

    name: str = ""
    data: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    """The lines of the event not yet dispatched: what SSE discards if the stream ends before its blank line."""
    other_lines: int = 0
    first_other: str | None = None

    def feed(self, line: str) -> _Event | None:
        """One line without its line end; an event when the line is the blank line that dispatches it."""
        if line == "":
            event = None
            if self.data or self.name:
                event = _Event(self.name or "message", "\n".join(self.data), bool(self.data))
            self.name, self.data, self.pending = "", [], []
            return event
        if line.startswith(":"):
            return None  # a comment (keep-alive pings are usually sent as comments)
        if len(self.pending) < _PENDING_LINES_KEPT:
            self.pending.append(line)
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self.data.append(value)
        elif name == "event":
            self.name = value
        elif name not in _FIELDS:
            # Ignored by the spec; counted, because a body made only of such lines is not SSE at all.
            self.other_lines += 1
            if self.first_other is None:
                self.first_other = line
        return None


@dataclass
class _Stream:
    """What has been read so far, kept outside the reading coroutine so a timeout does not lose it."""

    deltas: list[str] = field(default_factory=list)
    documents: list[Any] = field(default_factory=list)
    """JSON carried by the stream, in order: chunks, the metadata event, the end event."""
    events: int = 0
    ended: bool = False
    failed: bool = False
    reading_body: bool = False
    decoder: _Decoder = field(default_factory=_Decoder)


class SseAdapter:
    """Reads an event stream into one Outcome: text = the deltas joined, metadata from the stream's JSON.

    ``body`` is the end event's JSON data, else the metadata event's, else the last JSON chunk.

    Problems: ``stream_no_terminator`` (ended without ``sse.terminator``, or without ``sse.end_event``
    when there is no terminator), ``stream_error_event`` (an event named ``sse.error_event``; its data
    is the message), ``stream_error_chunk`` (a JSON chunk with a value at ``sse.error``),
    ``stream_incomplete_event`` (the stream ended inside an event; its lines quoted),
    ``stream_bad_delta`` (a delta that does not decode as declared), ``stream_bad_end_event`` (end or
    metadata event data is not JSON), ``stream_not_sse`` (labelled ``text/event-stream`` but not
    SSE), ``stream_not_event_stream`` (2xx but not ``text/event-stream``), ``stream_interrupted`` (the
    connection broke mid-stream), ``timeout`` (the stream did not finish within ``request.timeout_s``).
    A non-2xx response is recorded with its body and no problem.
    """

    delivery = "sse"

    async def deliver(self, client: httpx.AsyncClient, request: Request) -> Outcome:
        """Send ``request``, read the stream to its end or the deadline, and return the Outcome."""
        outcome = new_outcome(request, self.delivery, _SSE_HEADERS)
        stream = _Stream()
        started = time.perf_counter()
        async with delivery_errors(
            request, outcome, lambda: _timeout_message(request, outcome, stream), broken="stream_interrupted"
        ):
            await self._read(client, request, outcome, stream, started)
        outcome.timings.total_s = time.perf_counter() - started
        if stream.reading_body:
            outcome.text = "".join(stream.deltas)
            _extract(outcome, stream, request.spec.output, request.spec.sse)
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
        async with aconnect_sse(client, request.method, request.url, **send_options(request)) as source:
            response = source.response
            record_response(outcome, response, request, time.perf_counter() - started)
            media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
            if not is_success(response.status_code) or media_type != "text/event-stream":
                record_body(outcome, await read_body(response, request), request)
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
            await self._consume(response, request, outcome, stream, started)
            _judge_end(request.spec.sse, outcome, stream, request.secrets)

    async def _consume(
        self, response: httpx.Response, request: Request, outcome: Outcome, stream: _Stream, started: float
    ) -> None:
        """Apply each event to the Outcome until the stream's declared end or the end of the body."""
        size = 0
        async with closing(response.aiter_lines()) as lines:
            async for line in lines:
                size += len(line) + 1
                if size > request.max_bytes:
                    raise too_large(request, size)
                if self._on_line(line, request, outcome, stream, started):
                    return  # anything after the end is not part of the reply

    def _on_line(self, line: str, request: Request, outcome: Outcome, stream: _Stream, started: float) -> bool:
        """One line of the body into the transcript and the event decoder; True once the stream has ended."""
        outcome.transcript.append(f"< {redact_text(line, request.secrets)}".rstrip())
        event = stream.decoder.feed(line)
        if event is None:
            return False
        stream.events += 1
        return _apply(event, request, outcome, stream, started)


def _apply(event: _Event, request: Request, outcome: Outcome, stream: _Stream, started: float) -> bool:
    """One event's effect on the Outcome; True when the stream has ended (or failed)."""
    sse = request.spec.sse
    if sse.error_event is not None and event.name == sse.error_event:
        stream.failed = True
        message = redact_text(event.data, request.secrets) or f"(event {event.name!r} with no data)"
        outcome.problems.append(Problem("stream_error_event", message))
        return True
    if sse.terminator is not None and event.has_data and event.data == sse.terminator:
        stream.ended = True
        return True
    if event.name in (sse.end_event, sse.metadata_event):
        if event.has_data and event.data:
            document = _json(event.data)
            if document is _NOTHING:
                outcome.problems.append(
                    Problem(
                        "stream_bad_end_event", f"the {event.name!r} event's data is not JSON: {event.data[:200]!r}"
                    )
                )
            else:
                stream.documents.append(document)
                if event.name == sse.end_event or outcome.body is None:
                    outcome.body = document
        if event.name == sse.end_event and sse.terminator is None:
            stream.ended = True
            return True
        return False
    if event.name != sse.delta_event or not event.has_data:
        return False  # pings and events the spec does not name
    text = _delta(event.data, sse, request, outcome, stream)
    if stream.failed:
        return True
    if text:
        if outcome.timings.ttft_s is None:
            outcome.timings.ttft_s = time.perf_counter() - started
        stream.deltas.append(text)
    return False


def _delta(data: str, sse: SseSpec, request: Request, outcome: Outcome, stream: _Stream) -> str | None:
    """The text a delta event carries, decoded as the spec says; problems for one that does not decode."""
    if sse.delta == "raw":
        return data
    value = _json(data)
    if sse.delta == "json_string":
        if isinstance(value, str):
            return value
        outcome.problems.append(
            Problem("stream_bad_delta", f"expected a JSON string as delta data, got {data[:200]!r}")
        )
        return None
    if not isinstance(value, dict | list):
        outcome.problems.append(
            Problem("stream_bad_delta", f"expected a JSON object as delta data, got {data[:200]!r}")
        )
        return None
    stream.documents.append(value)
    if sse.error is not None:
        error = resolve_pointer(value, sse.error)
        if error is not None:
            stream.failed = True
            shown = error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)
            outcome.problems.append(
                Problem("stream_error_chunk", f"in-band error at {sse.error}: {redact_text(shown, request.secrets)}")
            )
            outcome.body = value
            return None
    assert sse.text is not None  # the spec requires it for delta: json
    text = resolve_pointer(value, sse.text)
    if text is None or isinstance(text, str):
        return text  # None: a chunk without text (the role, the finish_reason, usage)
    outcome.problems.append(Problem("stream_bad_delta", f"the text at {sse.text} is not a string: {text!r}"))
    return None


def _judge_end(sse: SseSpec, outcome: Outcome, stream: _Stream, secrets: tuple[str, ...]) -> None:
    """Problems for a stream that stopped without its declared end, or was not SSE at all."""
    if stream.ended or stream.failed:
        return
    decoder = stream.decoder
    if decoder.name or decoder.data:
        # SSE discards an event the stream ends inside (no blank line after it); a real framework ends its error
        # event that way, so the discarded lines are quoted rather than silently lost.
        discarded = redact_text(clip(" / ".join(decoder.pending), 400), secrets)
        outcome.problems.append(
            Problem(
                "stream_incomplete_event",
                f"the stream ended inside an event (no blank line after it), which SSE discards: {discarded!r}",
            )
        )
        outcome.transcript.append("! end of stream inside an event: discarded")
        return
    if stream.events == 0 and decoder.other_lines:
        outcome.problems.append(
            Problem(
                "stream_not_sse",
                f"the body is labelled text/event-stream but is not Server-Sent Events: "
                f"{decoder.other_lines} line(s) with no SSE field, the first {decoder.first_other[:200]!r}"
                if decoder.first_other
                else "the body is labelled text/event-stream but is not Server-Sent Events",
            )
        )
        outcome.transcript.append("! not an event stream")
        return
    if sse.terminator is not None:
        awaited = f"the terminator 'data: {sse.terminator}'"
    elif sse.end_event is not None:
        awaited = f"the {sse.end_event!r} event"
    else:
        return  # the end of the body is the end of the stream
    outcome.problems.append(
        Problem(
            "stream_no_terminator",
            f"the stream ended after {stream.events} events without {awaited}; the reply may be truncated",
        )
    )
    outcome.transcript.append("! end of stream without terminator")


def _extract(outcome: Outcome, stream: _Stream, pointers: OutputPointers, sse: SseSpec) -> None:
    """Sources and metadata from the stream's JSON: the last (or first) document with a value wins."""
    documents = stream.documents if sse.metadata_from == "first" else stream.documents[::-1]
    if outcome.body is None and stream.documents:
        outcome.body = stream.documents[-1]

    def find(pointer: str) -> Any:
        return next((v for v in (resolve_pointer(d, pointer) for d in documents) if v is not None), None)

    if pointers.sources is not None:
        value = find(pointers.sources)
        if isinstance(value, list):
            outcome.sources = [item if isinstance(item, str) else json.dumps(item) for item in value]
    for name, pointer in pointers.metadata.items():
        outcome.metadata[name] = find(pointer)


def _json(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return _NOTHING


def _timeout_message(request: Request, outcome: Outcome, stream: _Stream) -> str:
    """Says what was being waited for when the deadline ran out."""
    where = f"{request.method} {outcome.request['url']}"
    if outcome.status is None:
        return f"no response from {where} within {request.timeout_s:g} s"
    if not stream.reading_body:
        return f"the body of {where} did not arrive within {request.timeout_s:g} s"
    sse = request.spec.sse
    if sse.terminator is not None:
        awaited = f"the terminator 'data: {sse.terminator}'"
    elif sse.end_event is not None:
        awaited = f"the {sse.end_event!r} event"
    else:
        awaited = "the end of the stream"
    return (
        f"stream from {where} still open after {request.timeout_s:g} s, waiting for {awaited}; "
        f"{stream.events} events ({len(stream.deltas)} text deltas) received so far"
    )


def read_event_stream(request: Request, outcome: Outcome, body: bytes) -> None:
    """A whole event stream already received (e.g. teed by a recording proxy) read into ``outcome``.

    The same decoding, end and problem rules as a live stream; no timings.
    """
    stream = _Stream(reading_body=True)
    lines = re.split(r"\r\n|\r|\n", body.decode("utf-8-sig", errors="replace"))
    if lines and lines[-1] == "":
        lines.pop()  # the line end of the last line, not an empty line (which would dispatch an event)
    started = time.perf_counter()
    for line in lines:
        event = stream.decoder.feed(line)
        if event is None:
            continue
        stream.events += 1
        if _apply(event, request, outcome, stream, started):
            break
    _judge_end(request.spec.sse, outcome, stream, request.secrets)
    outcome.text = "".join(stream.deltas)
    _extract(outcome, stream, request.spec.output, request.spec.sse)
