"""One observed request and its response, and the ``Outcome`` the service spec reads from it."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from harness._delivery._base import Request
from harness._delivery._exchange import decode_body, extract_output
from harness._delivery._outcome import Outcome, is_success
from harness._delivery._sse import read_event_stream
from harness._model._spec import EndpointSpec


@dataclass
class Exchange:
    """A request and its response as they crossed the proxy (or a HAR entry); held in memory only."""

    method: str
    path: str
    """The path without the query string."""
    query: str = ""
    request_headers: dict[str, str] = field(default_factory=dict)
    """Kept to send samples of the same request; never written anywhere."""
    request_body: bytes = b""
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    truncated: bool = False
    """The response was larger than the recording bound: passed on whole, but not recorded."""

    def header(self, name: str, *, response: bool = False) -> str:
        """A header's value (case-insensitive), or ''."""
        headers = self.response_headers if response else self.request_headers
        lower = name.lower()
        return next((v for k, v in headers.items() if k.lower() == lower), "")


def outcome_of(exchange: Exchange, spec: EndpointSpec, endpoint: str) -> Outcome:
    """What the endpoint delivered in this exchange, as an adapter would have read it.

    A callback endpoint's response is only the acknowledgement: its output goes to the caller's URL, so the
    outcome has no text and no output (``output_observed`` says whether one was read).
    """
    outcome = Outcome(endpoint=endpoint, delivery=spec.delivery, status=exchange.status)
    content = _decoded(exchange)
    media_type = exchange.header("content-type", response=True).partition(";")[0].strip().lower()
    if spec.delivery == "sse" and is_success(exchange.status) and media_type == "text/event-stream":
        request = Request(endpoint=endpoint, method=exchange.method, url=exchange.path, spec=spec)
        read_event_stream(request, outcome, content)
        return outcome
    outcome.body = decode_body(content)
    if is_success(exchange.status) and spec.delivery == "sync":
        extract_output(outcome, spec.output)
    return outcome


def output_observed(outcome: Outcome) -> bool:
    """The outcome carries the endpoint's output (not a job acknowledgement, not a broken stream)."""
    if not outcome.succeeded:
        return outcome.status is not None  # an error answer is an answer: cases of rejected input replay it
    if outcome.delivery in ("callback", "poll"):
        return False  # the body is the job's acknowledgement, not its result
    return not outcome.problems


def _decoded(exchange: Exchange) -> bytes:
    """The response body with a gzip or deflate content encoding undone (other encodings left as they are)."""
    encoding = exchange.header("content-encoding", response=True).strip().lower()
    if encoding in ("gzip", "deflate") and exchange.response_body:
        try:
            return zlib.decompress(exchange.response_body, 47 if encoding == "gzip" else 15)
        except zlib.error:
            return exchange.response_body
    return exchange.response_body
