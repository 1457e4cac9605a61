"""What one endpoint delivered for one request, whatever its delivery mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Problem:
    """A named delivery failure, e.g. ``callback_duplicate`` or ``stream_no_terminator``."""

    kind: str
    message: str

    def __post_init__(self) -> None:
        from harness._delivery._problems import PROBLEMS

        if self.kind not in PROBLEMS:
            raise ValueError(f"undeclared delivery problem kind {self.kind!r}: declare it in _delivery/_problems.py")


@dataclass
class Timings:
    """Seconds measured on the harness side."""

    started_at: float | None = None
    """Wall-clock time (epoch seconds) the request was sent; shows which deliveries overlapped."""
    total_s: float | None = None
    """From sending the request to having the whole result."""
    ttft_s: float | None = None
    """Time to first token (SSE: first non-empty data event); None for other deliveries."""
    ack_s: float | None = None
    """Callback deliveries: time until the service acknowledged the job."""


def is_success(status: int | None) -> bool:
    """A 2xx status."""
    return status is not None and 200 <= status < 300


@dataclass
class Outcome:
    """One endpoint's answer to one request, normalised across sync, callback and SSE delivery."""

    endpoint: str
    """Which endpoint of the spec answered: ``qa`` or ``prod``."""
    delivery: str
    """``sync``, ``callback`` or ``sse``."""
    status: int | None = None
    """HTTP status of the request (callback: of the acknowledgement). None if no response came."""
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    """The result as JSON: the sync response, the callback payload, or the SSE end-event metadata.
    For a rejected request (non-2xx), the error response body."""
    text: str | None = None
    """The output text (sync: at the spec's text pointer; callback: in the payload; SSE: deltas joined)."""
    sources: list[str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    """Other values the spec points at, e.g. ``model_version``."""
    timings: Timings = field(default_factory=Timings)
    transcript: list[str] = field(default_factory=list)
    """Raw, human-readable record: request line, SSE lines, callback deliveries with headers."""
    problems: list[Problem] = field(default_factory=list)
    """Named delivery failures; any problem fails the endpoint's item."""
    request: dict[str, Any] = field(default_factory=dict)
    """What was sent: method, url, headers (secrets masked), body; used for the curl reproduction."""

    @property
    def succeeded(self) -> bool:
        """The service answered 2xx (callback: acknowledged the job)."""
        return is_success(self.status)
