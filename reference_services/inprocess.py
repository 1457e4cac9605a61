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

import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.serving import ServerThread, bind, quiet_config
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
    return bind("127.0.0.1", 0)


@dataclass
class RunningStack:
    """A started stack; ``stop()`` is idempotent and bounded."""

    base_url: str
    model_base_url: str
    qa_token: str
    callback_secret: str
    settings: Settings = field(repr=False)
    _serving: ServerThread | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Shut both servers down (bounded), then close the sockets."""
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.stop(SHUTDOWN_TIMEOUT_S)

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

    served: list[tuple[Any, socket.socket]] = []
    if "model_base_url" not in overrides:
        model_sock = bind_loopback()
        model_app = create_model_app(
            ModelSettings(time_to_first_token_ms=model_latency_ms, per_token_delay_ms=model_token_delay_ms)
        )
        served.append((quiet_config(model_app, lifespan="on"), model_sock))
        overrides["model_base_url"] = f"http://127.0.0.1:{model_sock.getsockname()[1]}/v1"
    settings = Settings(
        qa_token=qa_token,
        callback_secret=callback_secret,
        callback_allowed_hosts=frozenset(callback_allowed_hosts),
        faults=chosen_faults,
        **overrides,
    )
    gateway_sock = bind_loopback()
    served.append((quiet_config(create_app(settings), lifespan="on"), gateway_sock))
    serving = ServerThread(served, name="reference-stack")
    try:
        serving.start(STARTUP_TIMEOUT_S)
    except RuntimeError as exc:
        raise RuntimeError(f"the reference stack did not start within {STARTUP_TIMEOUT_S:.0f} s: {exc}") from None
    return RunningStack(
        base_url=f"http://127.0.0.1:{gateway_sock.getsockname()[1]}",
        model_base_url=settings.model_base_url,
        qa_token=qa_token,
        callback_secret=callback_secret,
        settings=settings,
        _serving=serving,
    )
