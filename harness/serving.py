"""ASGI apps served by uvicorn on real sockets from a background thread: start bounded, stop bounded.

The callback receiver, the in-process reference services and test graders all need "serve this app on
127.0.0.1 while the caller goes on": one implementation, so the keep-alive and shutdown lessons hold for all.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

KEEP_ALIVE_S = 30
"""Longer than clients keep idle connections (httpx: 5 s): uvicorn's 5 s default closes a reused
connection under a request in flight."""


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: an ephemeral one); raises ``OSError`` if it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
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


class ServerThread:
    """Serves ``(config, socket)`` pairs from one daemon thread with its own event loop."""

    def __init__(self, served: Sequence[tuple[Any, socket.socket]], *, name: str) -> None:
        import uvicorn

        self._servers = [uvicorn.Server(config) for config, _ in served]
        self._sockets = [sock for _, sock in served]
        self._failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        async def serve_all() -> None:
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

    @property
    def running(self) -> bool:
        """True while the serving thread lives."""
        return self._thread.is_alive()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask every server to finish, force them after ``timeout_s``, close the sockets; safe to call twice."""
        for server in self._servers:
            server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            for server in self._servers:
                server.force_exit = True
            self._thread.join(2.0)
        for sock in self._sockets:
            sock.close()
