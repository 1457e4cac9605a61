"""Sync delivery: one JSON request, one JSON response."""

from __future__ import annotations

import asyncio
import time

import httpx

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
        try:
            async with asyncio.timeout(request.timeout_s):
                response = await client.request(request.method, request.url, **send_options(request))
        except UNREACHABLE_ERRORS as exc:
            raise unreachable(request, exc) from exc
        except (TimeoutError, httpx.TimeoutException):
            outcome.timings.total_s = time.perf_counter() - started
            outcome.problems.append(
                Problem(
                    "timeout",
                    f"no response from {request.method} {outcome.request['url']} within {request.timeout_s:g} s",
                )
            )
            outcome.transcript.append(f"! no response within {request.timeout_s:g} s")
            return outcome
        except httpx.TransportError as exc:
            outcome.timings.total_s = time.perf_counter() - started
            outcome.problems.append(
                Problem("transport_error", f"{request.method} {outcome.request['url']} failed: {exc!r}")
            )
            outcome.transcript.append(f"! {exc!r}")
            return outcome
        outcome.timings.total_s = time.perf_counter() - started
        record_response(outcome, response, request, outcome.timings.total_s)
        record_body(outcome, response, request)
        if is_success(response.status_code):
            extract_output(outcome, request.spec.output)
        return outcome
