"""ASGI apps served by uvicorn on real sockets from a background thread: start bounded, stop bounded.

The callback receiver, the in-process reference services and test graders all need "serve this app on
127.0.0.1 while the caller goes on": one implementation, so the keep-alive and shutdown lessons hold for all.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

KEEP_ALIVE_S = 30
"""Longer than clients keep idle connections (httpx: 5 s): uvicorn's 5 s default closes a reused
connection under a request in flight."""
TICK_S = 0.1
"""uvicorn's own tick (the Date header, max-requests): between ticks its main loop now also wakes when stopped."""


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: an ephemeral one); raises ``OSError`` if it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP said outright: asyncio sets TCP_NODELAY only on sockets whose proto is TCP, and a socket made
    # with proto 0 (and every connection it accepts) would keep Nagle's algorithm, so each response written in
    # two parts (headers, then body) waits for the client's delayed ACK: about 40 ms a request on Linux.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def quiet_config(app: Any, **overrides: Any) -> Any:
    """A ``uvicorn.Config`` that leaves the host's logging alone, logs no requests and outlives keep-alives."""
    import uvicorn  # lazy: the plugin imports this module's users only when something is served

    options: dict[str, Any] = {
        "log_config": None,
        "log_level": "warning",
        "access_log": False,
        "timeout_keep_alive": KEEP_ALIVE_S,
        "timeout_graceful_shutdown": 2,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


def _server(config: Any) -> Any:
    """A ``uvicorn.Server`` whose main loop ends as soon as it is told to (``wake``), not at its next tick."""
    import uvicorn

    class Server(uvicorn.Server):
        wake: asyncio.Event | None = None

        async def main_loop(self) -> None:
            # uvicorn's loop, with its sleep between ticks cut short by ``wake``: stopping a run's services
            # and receiver no longer waits for a tick of each.
            self.wake = asyncio.Event()
            counter = 0
            while not await self.on_tick(counter):
                counter = (counter + 1) % 864000
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), TICK_S)

    return Server(config)


class ServerThread:
    """Serves ``(config, socket)`` pairs from one daemon thread with its own event loop."""

    def __init__(self, served: Sequence[tuple[Any, socket.socket]], *, name: str) -> None:
        self._servers = [_server(config) for config, _ in served]
        self._sockets = [sock for _, sock in served]
        self._failure: list[BaseException] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        async def serve_all() -> None:
            self._loop = asyncio.get_running_loop()
            await asyncio.gather(
                *(s.serve(sockets=[sock]) for s, sock in zip(self._servers, self._sockets, strict=True))
            )

        try:
            asyncio.run(serve_all())
        except BaseException as exc:  # reported to the starting thread
            self._failure.append(exc)

    def start(self, timeout_s: float = 15.0) -> None:
        """Return once every server accepts connections; else stop and raise ``RuntimeError`` saying why."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not all(s.started for s in self._servers):
            if self._failure or not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                reason = (
                    repr(self._failure[0])
                    if self._failure
                    else f"not serving within {timeout_s:g} s"
                    if self._thread.is_alive()
                    else "the server thread exited"
                )
                raise RuntimeError(reason)
            time.sleep(0.005)

    def _wake_all(self) -> None:
        """On the serving loop: end each server's wait for its next tick."""
        for server in self._servers:
            if server.wake is not None:
                server.wake.set()

    @property
    def running(self) -> bool:
        """True while the serving thread lives."""
        return self._thread.is_alive()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask every server to finish, force them after ``timeout_s``, close the sockets; safe to call twice."""
        for server in self._servers:
            server.should_exit = True
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed: nothing to wake
                loop.call_soon_threadsafe(self._wake_all)
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            for server in self._servers:
                server.force_exit = True
            self._thread.join(2.0)
        for sock in self._sockets:
            sock.close()
