"""A raw HTTP/1.1 server for adapter tests: each response is written byte for byte, chunk by chunk.

httpx and uvicorn would smooth over exactly what these tests need to control (where a network chunk
ends, a wrong charset, a body that stops mid-stream), so the server speaks HTTP over asyncio streams.
A handler is an async generator that yields ``bytes`` to write or a ``float`` to sleep that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from harness._delivery import DeliveryAdapter, Request
from harness._delivery._outcome import Outcome


@dataclass
class RawRequest:
    """What the client sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[RawRequest], AsyncIterator["bytes | float"]]


def head(status: int = 200, content_type: str = "text/event-stream; charset=utf-8", chunked: bool = True) -> bytes:
    """A response head; chunked unless told otherwise (then the body ends when the connection closes)."""
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", "Connection: close"]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


END = b"0\r\n\r\n"


def json_response(status: int, payload: Any) -> bytes:
    """A complete JSON response with Content-Length."""
    body = json.dumps(payload).encode()
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


class ScriptedServer:
    """Serves ``handler`` on 127.0.0.1 (ephemeral port) inside the running loop; use ``async with``."""

    # Gap between writes so the client reads each write as its own chunk (TCP_NODELAY is set too).
    gap_s = 0.01

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[RawRequest] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read one request, play the handler's script, close."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            request_head = await reader.readuntil(b"\r\n\r\n")
            lines = request_head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = RawRequest(method, path, headers, body)
            self.requests.append(request)
            async for step in self.handler(request):
                if isinstance(step, float):
                    await asyncio.sleep(step)
                else:
                    writer.write(step)
                    await writer.drain()
                    await asyncio.sleep(self.gap_s)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Cancelled by __aexit__ on purpose; re-raising would only make asyncio log it.
            pass
        finally:
            writer.close()
            self._tasks.discard(task)  # type: ignore[arg-type]


def refused_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def deliver_scripted(
    adapter: DeliveryAdapter,
    handler: Handler,
    *,
    settle: Callable[[], Awaitable[None]] | None = None,
    **request: Any,
) -> tuple[Outcome, list[RawRequest]]:
    """Serve ``handler``, POST one ``Request(**request)`` to it through ``adapter``; the Outcome and what it saw.

    The URL is the server's plus the spec's path. ``settle`` runs before the server stops, for work the
    script started in the background (a job that calls back later).
    """
    async with ScriptedServer(handler) as server, httpx.AsyncClient() as client:
        url = server.url + request["spec"].path
        outcome = await adapter.deliver(client, Request(method="POST", url=url, **request))
        if settle is not None:
            await settle()
        return outcome, server.requests
