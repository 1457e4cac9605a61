"""The recording reverse proxy: every request goes to the upstream unchanged, every response comes back
as it arrives, and a copy of each exchange (bounded) goes to the recorder once it has ended.

Responses are streamed chunk by chunk as the upstream sends them (``aiter_raw``: the bytes as sent,
compressed or not), so an SSE stream reaches the client event by event and a long answer is never held
back. Callback URLs in requests and job polls pass through like any other request: the service calls the
client back directly. Recording happens after the response is complete, off the response path; samples
(the same request sent again to learn noise) are sent then too, never delaying the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from harness._delivery._outcome import Outcome
from harness._record._exchange import Exchange, outcome_of
from harness._record._recorder import Plan, Recorder

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
"""Headers that describe one connection, not the message: each hop sets its own (RFC 9110 section 7.6.1)."""

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

DEFAULT_UPSTREAM_TIMEOUT_S = 300.0
"""Bound on connecting to the upstream and on each wait for its next bytes (a stream may think a while)."""

log = logging.getLogger("harness.record")


class RecordingProxy:
    """An ASGI app forwarding to ``upstream`` and feeding ``recorder``; ``app`` is what uvicorn serves."""

    def __init__(self, upstream: str, recorder: Recorder, *, timeout_s: float = DEFAULT_UPSTREAM_TIMEOUT_S) -> None:
        self.upstream = upstream.rstrip("/")
        self.recorder = recorder
        self.timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.app = Starlette(routes=[Route("/{path:path}", self._forward, methods=_METHODS)], lifespan=self._lifespan)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=2.0)
        timeout = httpx.Timeout(self.timeout_s, connect=10.0)
        async with httpx.AsyncClient(limits=limits, timeout=timeout, follow_redirects=False) as client:
            self._client = client
            try:
                yield
            finally:
                # Recordings still sending their samples get a short grace, then are dropped (counted).
                if self._tasks:
                    await asyncio.wait(self._tasks, timeout=5.0)
                self._client = None

    async def _forward(self, request: Request) -> Response:
        assert self._client is not None  # set by the lifespan before the first request
        body = await request.body()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP]
        url = self.upstream + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        exchange = Exchange(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            request_headers=dict(headers),
            request_body=body,
        )
        upstream_request = self._client.build_request(request.method, url, headers=headers, content=body)
        try:
            upstream = await self._client.send(upstream_request, stream=True)
        except httpx.HTTPError as exc:
            self._observe(exchange)  # counted: no response from the service
            return PlainTextResponse(f"harness record: upstream {self.upstream} failed: {exc!r}", status_code=502)
        exchange.status = upstream.status_code
        exchange.response_headers = dict(upstream.headers)
        response_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
        if "content-length" in upstream.headers:
            response_headers["content-length"] = upstream.headers["content-length"]  # raw bytes: the same length
        return StreamingResponse(
            self._relay(upstream, exchange), status_code=upstream.status_code, headers=response_headers
        )

    async def _relay(self, upstream: httpx.Response, exchange: Exchange) -> AsyncIterator[bytes]:
        """The upstream's bytes as they come, a bounded copy kept; the exchange recorded once it is whole."""
        limit = self.recorder.settings.max_body_bytes
        kept: list[bytes] = []
        size = 0
        complete = False
        try:
            async for chunk in upstream.aiter_raw():
                size += len(chunk)
                if size <= limit:
                    kept.append(chunk)
                else:
                    exchange.truncated = True
                yield chunk
            complete = True
        finally:
            await upstream.aclose()
            if complete:
                exchange.response_body = b"".join(kept)
                self._observe(exchange)

    def _observe(self, exchange: Exchange) -> None:
        # Parsing, scrubbing and writing are CPU and disk work: on a thread, never on the loop that relays.
        task = asyncio.get_running_loop().create_task(self._record(exchange))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record(self, exchange: Exchange) -> None:
        """Plan the case, send the samples, record it."""
        plan: Plan | None = None
        try:
            plan = await asyncio.to_thread(self.recorder.plan, exchange)
            if plan is None:
                return
            samples = [await self._sample(plan) for _ in range(self.recorder.wants_samples(plan))]
            await asyncio.to_thread(self.recorder.record, plan, [s for s in samples if s is not None])
        except Exception:  # a recording must never take the proxy down
            log.exception("harness record: could not record %s %s", exchange.method, exchange.path)
            if plan is not None:
                self.recorder.abandon(plan)

    async def _sample(self, plan: Plan) -> Outcome | None:
        """The same request again, its answer read whole (bounded); None if it fails."""
        assert self._client is not None
        exchange = plan.exchange
        body = self.recorder.sample_body(plan)  # a new conversation, where the service has them
        again = Exchange(exchange.method, exchange.path, exchange.query, exchange.request_headers, body)
        query = f"?{exchange.query}" if exchange.query else ""
        try:
            async with self._client.stream(
                exchange.method,
                self.upstream + exchange.path + query,
                headers=exchange.request_headers,
                content=body,
            ) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if size > self.recorder.settings.max_body_bytes:
                        return None
                    chunks.append(chunk)
        except httpx.HTTPError:
            return None
        again.status = response.status_code
        again.response_headers = dict(response.headers)
        again.response_body = b"".join(chunks)
        return outcome_of(again, self.recorder.spec.endpoint(plan.endpoint), plan.endpoint)


def serve_options() -> dict[str, Any]:
    """uvicorn settings for the proxy: no access log of its own (the service keeps one)."""
    return {"lifespan": "on", "timeout_graceful_shutdown": 5}
