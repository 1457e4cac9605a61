"""The gateway: health, version, request ids, validation shape, coexisting instances, start_stack errors."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from reference_services import FAULTS, RunningStack, Settings, start_stack


def test_health_and_version(stack: RunningStack, client: httpx.Client) -> None:
    assert client.get(f"{stack.base_url}/health").json() == {"status": "ok"}
    version = client.get(f"{stack.base_url}/version").json()
    assert version == {"model_version": stack.settings.model_name, "services": ["examgenerator", "studycompanion"]}


def test_request_id_is_echoed_or_generated(stack: RunningStack, client: httpx.Client) -> None:
    assert client.get(f"{stack.base_url}/health", headers={"X-Request-Id": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    generated = client.get(f"{stack.base_url}/health").headers["x-request-id"]
    assert len(generated) == 32


def test_one_log_line_per_request_without_the_token(
    stack: RunningStack, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="reference_services"):
        client.post(
            f"{stack.base_url}/examgenerator/create/qa",
            json={"course_title": "x"},
            headers={"Authorization": f"Bearer {stack.qa_token}", "X-Request-Id": "log-check-1"},
        )
        # The line is written once the response has gone out (its duration includes sending), on the server's
        # thread: the client may read the response first. Wait for it, generously.
        deadline = time.monotonic() + 10
        while not _lines(caplog, "log-check-1") and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # and long enough that a second line for the request would show
    lines = _lines(caplog, "log-check-1")
    assert len(lines) == 1
    assert "method=POST path=/examgenerator/create/qa status=422" in lines[0]
    assert stack.qa_token not in caplog.text


def _lines(caplog: pytest.LogCaptureFixture, request_id: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if request_id in r.getMessage()]


def test_the_model_server_is_openai_compatible(stack: RunningStack, client: httpx.Client) -> None:
    models = client.get(f"{stack.model_base_url}/models").json()
    assert models["data"][0]["id"] == stack.settings.model_name


def test_two_differently_configured_stacks_coexist(make_stack, client: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    healthy, faulty = make_stack(), make_stack("model_version_skew")
    body = {"user_id": "u", "course": "Macroeconomics 201", "conversation_id": "coexist", "message": "What is GDP?"}
    chunks = []
    for s in (healthy, faulty):
        with client.stream("POST", f"{s.base_url}/studycompanion/chat/stream", json=body) as r:
            chunks.append("".join(r.iter_text()))
    assert '"model_version":"reference-llm-1.0"' in chunks[0]
    assert '"model_version":"reference-llm-1.0-previous"' in chunks[1]


def test_unknown_fault_is_a_value_error_naming_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"valid faults are: .*pii_leak"):
        start_stack(faults=["pii_leek"])


def test_settings_reject_a_bad_secret() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        Settings(qa_token="t", callback_secret="nope")
    assert "callback_never" in FAULTS


def test_stop_is_idempotent() -> None:
    s = start_stack()
    s.stop()
    s.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{s.base_url}/health", timeout=1)
