"""Start the reference stack (embedded model + gateway) in-process, on loopback ephemeral ports.

This is the interface the harness uses when no ``--base-url`` is given::

    stack = start_stack(faults=["pii_leak"])
    try:
        httpx.get(f"{stack.base_url}/health")
    finally:
        stack.stop()

Both uvicorn servers run in one daemon thread with its own event loop; sockets are bound here (port 0),
so the ports are known before the thread starts and nothing can race for them.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from reference_services.faults import validate_faults
from reference_services.gateway import create_app
from reference_services.model import ModelSettings, create_model_app
from reference_services.settings import (
    DEFAULT_ALLOWED_HOSTS,
    Settings,
    generate_callback_secret,
    generate_qa_token,
)

STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 5.0


def bind_loopback() -> socket.socket:
    """A TCP socket bound to 127.0.0.1 on an ephemeral port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


KEEP_ALIVE_S = 30


def quiet_server(app: Any, *, graceful_s: float = 2.0) -> uvicorn.Server:
    """A uvicorn server that leaves logging config alone and has no access log."""
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(max(1, graceful_s)),
        # Longer than clients keep idle connections (httpx: 5 s), so a reused connection is never closed
        # under a request in flight; uvicorn's own 5 s default races exactly that.
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    return uvicorn.Server(config)


@dataclass
class RunningStack:
    """A started stack; ``stop()`` is idempotent and bounded."""

    base_url: str
    model_base_url: str
    qa_token: str
    callback_secret: str
    settings: Settings = field(repr=False)
    _servers: list[uvicorn.Server] = field(default_factory=list, repr=False)
    _sockets: list[socket.socket] = field(default_factory=list, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Shut both servers down (bounded), then close the sockets."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        for server in self._servers:
            server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT_S)
        if thread.is_alive():
            for server in self._servers:
                server.force_exit = True
            thread.join(2.0)
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> RunningStack:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_stack(
    *,
    faults: Sequence[str] = (),
    model_latency_ms: float = 0.0,
    model_token_delay_ms: float = 0.0,
    qa_token: str | None = None,
    callback_secret: str | None = None,
    callback_allowed_hosts: Sequence[str] = DEFAULT_ALLOWED_HOSTS,
    settings_overrides: Mapping[str, Any] | None = None,
) -> RunningStack:
    """Start the embedded model and the gateway; return once both answer, or raise ``RuntimeError``.

    Unknown fault names raise ``ValueError`` naming the valid ones. ``settings_overrides`` are extra
    ``Settings`` fields; a ``model_base_url`` there points the gateway at another model (the embedded one
    is then not started).
    """
    overrides = dict(settings_overrides or {})
    chosen_faults = validate_faults(faults)
    qa_token = qa_token or generate_qa_token()
    callback_secret = callback_secret or generate_callback_secret()

    servers: list[uvicorn.Server] = []
    sockets: list[socket.socket] = []
    if "model_base_url" not in overrides:
        model_sock = bind_loopback()
        sockets.append(model_sock)
        model_app = create_model_app(
            ModelSettings(time_to_first_token_ms=model_latency_ms, per_token_delay_ms=model_token_delay_ms)
        )
        servers.append(quiet_server(model_app))
        overrides["model_base_url"] = f"http://127.0.0.1:{model_sock.getsockname()[1]}/v1"
    settings = Settings(
        qa_token=qa_token,
        callback_secret=callback_secret,
        callback_allowed_hosts=frozenset(callback_allowed_hosts),
        faults=chosen_faults,
        **overrides,
    )
    gateway_sock = bind_loopback()
    sockets.append(gateway_sock)
    servers.append(quiet_server(create_app(settings)))

    failure: list[BaseException] = []

    async def serve_all() -> None:
        await asyncio.gather(*(s.serve(sockets=[sock]) for s, sock in zip(servers, sockets, strict=True)))

    def run() -> None:
        try:
            asyncio.run(serve_all())
        except BaseException as exc:  # reported to the starting thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="reference-stack", daemon=True)
    stack = RunningStack(
        base_url=f"http://127.0.0.1:{gateway_sock.getsockname()[1]}",
        model_base_url=settings.model_base_url,
        qa_token=qa_token,
        callback_secret=callback_secret,
        settings=settings,
        _servers=servers,
        _sockets=sockets,
        _thread=thread,
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not all(s.started for s in servers):
        if failure or not thread.is_alive() or time.monotonic() > deadline:
            stack.stop()
            reason = repr(failure[0]) if failure else "timed out" if thread.is_alive() else "server thread exited"
            raise RuntimeError(f"the reference stack did not start within {STARTUP_TIMEOUT_S:.0f} s: {reason}")
        time.sleep(0.005)
    return stack
