"""The delivery interface: a prepared ``Request`` in, an ``Outcome`` out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from harness._delivery._outcome import Outcome
from harness._model._spec import EndpointSpec
from harness._run._options import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_S


@dataclass
class Request:
    """A fully prepared request to one endpoint."""

    endpoint: str
    """``qa`` or ``prod``."""
    method: str
    url: str
    spec: EndpointSpec
    base_url: str = ""
    """The URL ``spec.path`` is below; polls build their status and result URLs on it."""
    headers: dict[str, str] = field(default_factory=dict)
    """Headers to send; they win over headers an adapter adds (e.g. a case's own Callback-Url)."""
    omit_headers: frozenset[str] = frozenset()
    """Header names never to send, even ones an adapter adds (e.g. to test a missing Callback-Url)."""
    json: Any = None
    content: bytes | None = None
    """Raw body, sent instead of ``json`` (e.g. malformed JSON on purpose)."""
    timeout_s: float = DEFAULT_TIMEOUT_S
    """Wall-clock bound for the whole delivery: request, stream or callback wait."""
    secrets: tuple[str, ...] = ()
    """Values to mask in the transcript and request record."""
    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    """Bound on what one response (or stream) may send; past it reading stops: ``response_too_large``."""


class DeliveryAdapter(Protocol):
    """Sends a request and returns what the endpoint delivered."""

    async def deliver(self, client: httpx.AsyncClient, request: Request) -> Outcome: ...
