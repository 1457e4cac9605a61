"""SyncAdapter and get_adapter against real loopback servers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from harness._delivery import CallbackAdapter, CallbackReceiver, Request, SseAdapter, SyncAdapter, get_adapter
from harness._delivery._outcome import Outcome
from harness._errors import HarnessUsageError, ServiceUnreachable
from harness._model._spec import EndpointSpec, OutputPointers
from tests.support.scripted_http import RawRequest, deliver_scripted, head, json_response, refused_url

SPEC = EndpointSpec(
    path="/chat/qa",
    delivery="sync",
    auth="qa_token",
    output=OutputPointers(text="/reply", sources="/sources", metadata={"model_version": "/meta/model_version"}),
)
TOKEN = "sync-secret-token"


def deliver(handler: Any, timeout_s: float = 5.0, **request: Any) -> tuple[Outcome, list[RawRequest]]:
    """Serve ``handler``, deliver one request to it; return the Outcome and what the server saw."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return asyncio.run(
        deliver_scripted(
            SyncAdapter(),
            handler,
            endpoint="qa",
            spec=SPEC,
            headers=headers,
            secrets=(TOKEN,),
            timeout_s=timeout_s,
            **request,
        )
    )


def answer(status: int, payload: Any) -> Any:
    async def handler(request: RawRequest) -> AsyncIterator[bytes | float]:
        yield json_response(status, payload)

    return handler


def test_happy_path_extracts_text_sources_and_metadata() -> None:
    payload = {"reply": "Mitochondria.", "sources": ["doc-7"], "meta": {"model_version": "m2"}}
    outcome, seen = deliver(answer(200, payload), json={"message": "what?"})
    assert outcome.problems == []
    assert outcome.status == 200
    assert outcome.body == payload
    assert outcome.text == "Mitochondria."
    assert outcome.sources == ["doc-7"]
    assert outcome.metadata == {"model_version": "m2"}
    assert outcome.timings.total_s is not None
    assert outcome.timings.total_s > 0
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert seen[0].body == b'{"message":"what?"}'
    # What was sent is recorded for a curl reproduction, with the token masked.
    assert outcome.request == {
        "method": "POST",
        "url": outcome.request["url"],
        "headers": {"Authorization": "Bearer ***", "Content-Type": "application/json"},
        "body": {"message": "what?"},
    }
    assert outcome.transcript[0].startswith("> POST http://127.0.0.1:")
    assert any(line.startswith("< 200") for line in outcome.transcript)
    assert not any(TOKEN in line for line in outcome.transcript)


def test_a_text_pointer_that_finds_nothing_is_named_with_the_keys_there() -> None:
    outcome, _ = deliver(answer(200, {"unexpected": True}), json={})
    assert [p.kind for p in outcome.problems] == ["output_missing"]
    assert "output.text /reply finds no text in the qa answer: the body has keys unexpected" in (
        outcome.problems[0].message
    )
    assert outcome.text is None
    assert outcome.sources is None
    assert outcome.metadata == {"model_version": None}


def test_422_is_recorded_without_problem() -> None:
    detail = {"detail": [{"msg": "Field required"}]}
    outcome, _ = deliver(answer(422, detail), content=b"{not json")
    assert outcome.status == 422
    assert outcome.body == detail
    assert outcome.problems == []
    assert outcome.text is None
    assert outcome.request["body"] == "{not json"


def test_non_json_body_is_kept_as_text() -> None:
    async def handler(request: RawRequest) -> AsyncIterator[bytes | float]:
        yield head(500, "text/plain", chunked=False) + b"Internal Server Error"

    outcome, _ = deliver(handler, json={})
    assert outcome.status == 500
    assert outcome.body == "Internal Server Error"


def test_slow_response_is_a_timeout_problem_within_the_deadline() -> None:
    async def handler(request: RawRequest) -> AsyncIterator[bytes | float]:
        yield 30.0

    started = time.perf_counter()
    outcome, _ = deliver(handler, timeout_s=0.3, json={})
    assert [p.kind for p in outcome.problems] == ["timeout"]
    assert "0.3 s" in outcome.problems[0].message
    assert outcome.status is None
    assert time.perf_counter() - started < 2.0


def test_connection_refused_raises_service_unreachable() -> None:
    url = refused_url()

    async def main() -> None:
        async with httpx.AsyncClient() as client:
            await SyncAdapter().deliver(client, Request(endpoint="qa", method="POST", url=url, spec=SPEC))

    with pytest.raises(ServiceUnreachable, match=r"Is the service running\? Check --base-url") as excinfo:
        asyncio.run(main())
    assert url in str(excinfo.value)


def test_dns_failure_raises_service_unreachable() -> None:
    async def main() -> None:
        async with httpx.AsyncClient() as client:
            await SyncAdapter().deliver(
                client, Request(endpoint="qa", method="POST", url="http://nonexistent.invalid/x", spec=SPEC)
            )

    with pytest.raises(ServiceUnreachable, match=r"nonexistent\.invalid"):
        asyncio.run(main())


def test_get_adapter_picks_by_delivery_mode() -> None:
    receiver = CallbackReceiver()
    assert isinstance(get_adapter("sync"), SyncAdapter)
    assert isinstance(get_adapter("sse"), SseAdapter)
    adapter = get_adapter("callback", receiver=receiver, settle_s=0.1)
    assert isinstance(adapter, CallbackAdapter)
    assert adapter.settle_s == 0.1
    with pytest.raises(HarnessUsageError, match="CallbackReceiver"):
        get_adapter("callback")
    with pytest.raises(HarnessUsageError, match="sync, callback, sse or poll"):
        get_adapter("carrier-pigeon")


def test_request_headers_win_over_adapter_headers_and_omitted_ones_are_dropped() -> None:
    from harness._delivery._exchange import merged_headers

    request = Request(
        endpoint="prod",
        method="POST",
        url="http://127.0.0.1:1/x",
        spec=EndpointSpec(path="/x", delivery="callback"),
        headers={"Callback-Url": "http://attacker.example.com/collect", "X-Keep": "1"},
        omit_headers=frozenset({"x-drop"}),
    )
    merged = merged_headers(request, {"callback-url": "http://127.0.0.1:9/cb", "X-Drop": "gone", "X-Add": "2"})
    assert merged == {"Callback-Url": "http://attacker.example.com/collect", "X-Keep": "1", "X-Add": "2"}
    omitted = Request(
        endpoint="prod",
        method="POST",
        url="http://127.0.0.1:1/x",
        spec=EndpointSpec(path="/x", delivery="callback"),
        omit_headers=frozenset({"Callback-Url"}),
    )
    assert merged_headers(omitted, {"Callback-Url": "http://127.0.0.1:9/cb"}) == {}
