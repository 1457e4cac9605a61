"""Sync delivery: one JSON request, one JSON response."""

from __future__ import annotations

import time

import httpx

from harness._delivery._base import Request
from harness._delivery._exchange import (
    delivery_errors,
    extract_output,
    new_outcome,
    record_body,
    record_response,
    send,
    send_options,
)
from harness._delivery._outcome import Outcome, is_success


class SyncAdapter:
    """Sends one request and records the response; the result body is the response's JSON.

    A non-2xx response is recorded (status and body) without a problem: whether a 4xx is right is for
    the checks to decide. A response that does not come within ``request.timeout_s`` gives a
    ``timeout`` problem; a service that cannot be reached raises ``ServiceUnreachable``.
    """

    delivery = "sync"

    async def deliver(self, client: httpx.AsyncClient, request: Request) -> Outcome:
        """Send ``request`` and return what came back."""
        outcome = new_outcome(request, self.delivery)
        started = time.perf_counter()

        def late() -> str:
            return f"no response from {request.method} {outcome.request['url']} within {request.timeout_s:g} s"

        async with delivery_errors(request, outcome, late) as exchange:
            response, content = await send(client, request, request.method, request.url, **send_options(request))
        outcome.timings.total_s = time.perf_counter() - started
        if not exchange.ok:
            return outcome
        record_response(outcome, response, request, outcome.timings.total_s)
        record_body(outcome, content, request)
        if is_success(response.status_code):
            extract_output(outcome, request.spec.output)
        return outcome
