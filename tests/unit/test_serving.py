"""``harness.serving``: a server thread stops when told to, without waiting for uvicorn's next tick, and its
connections send without Nagle's delay."""

from __future__ import annotations

import asyncio
import socket
import urllib.request
from typing import Any

import pytest

from harness import serving


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_stopping_wakes_the_main_loop_instead_of_waiting_for_its_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    # A minute between ticks: a stop that waited for the next one would outlast stop's own 3 s bound.
    monkeypatch.setattr(serving, "TICK_S", 60.0)
    sock = serving.bind()
    thread = serving.ServerThread([(serving.quiet_config(_app), sock)], name="test-serving")
    thread.start()
    port = sock.getsockname()[1]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
        assert answer.read() == b"ok"
    thread.stop(timeout_s=3.0)
    assert not thread.running


def test_connections_accepted_on_a_bound_socket_send_without_nagle_delay() -> None:
    """A response goes out in two writes (headers, then body). With Nagle's algorithm on, the body waits for the
    client's delayed ACK of the headers (about 40 ms a request on Linux). asyncio turns it off only on sockets
    whose proto is TCP, so ``bind`` must say so."""

    async def accepted_nodelay() -> int:
        loop = asyncio.get_running_loop()
        seen: asyncio.Future[int] = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=serving.bind())
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(accepted_nodelay()) != 0
