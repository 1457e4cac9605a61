"""``harness.serving``: a server thread stops when told to, without waiting for uvicorn's next tick."""

from __future__ import annotations

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
