"""Callbacks beyond the reference contract: the receiver URL in the body, GitHub-style HMAC signatures
(the deliveries githubkit signed, from tests/wire/transcripts), a delivery-id header, status values honoured."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness._delivery import CallbackAdapter, CallbackReceiver, Request
from harness._delivery._outcome import Outcome
from harness._delivery._signatures import HmacBodySignature
from harness._model._spec import EndpointSpec
from tests.support.scripted_http import RawRequest, ScriptedServer, json_response

TRANSCRIPTS = Path(__file__).parents[1] / "wire" / "transcripts"
SECRET = "It's a Secret to Everybody"  # GitHub's documentation dummy, which signed the captures

SPEC = EndpointSpec.model_validate(
    {
        "path": "/jobs",
        "delivery": "callback",
        "body": {"input": "$input"},
        "output": {"text": "/job/output/text", "sources": "/job/output/sources"},
        "callback": {
            "url_header": None,
            "url_pointer": "/webhook/url",
            "ack_id": "/job/id",
            "payload_id": "/job/id",
            "status": "/job/status",
            "success": ["completed"],
            "failure": ["failed"],
            "signature": {
                "hmac_sha256": {"header": "X-Hub-Signature-256", "prefix": "sha256=", "secret": "${WEBHOOK_SECRET}"}
            },
            "delivery_id_header": "X-GitHub-Delivery",
        },
    }
)


def captured(name: str) -> tuple[dict[str, str], bytes]:
    """The headers and exact body bytes of a captured GitHub-style delivery."""
    meta = json.loads((TRANSCRIPTS / f"{name}.json").read_text(encoding="utf-8"))
    return meta["request"]["headers"], (TRANSCRIPTS / meta["request"]["body_file"]).read_bytes()


def signed(payload: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """A delivery signed as GitHub signs, with a fresh delivery id."""
    body = json.dumps(payload).encode()
    delivery_id = str(uuid.uuid4())
    signature = HmacBodySignature(SECRET, "X-Hub-Signature-256", "sha256=").expected(body)
    return {"X-Hub-Signature-256": signature, "X-GitHub-Delivery": delivery_id}, body


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    # One per test: the receiver remembers every signed delivery id, and the captured ones repeat.
    with CallbackReceiver() as started:
        yield started


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)


def run(receiver: CallbackReceiver, *deliveries: tuple[dict[str, str], bytes]) -> tuple[Outcome, list[RawRequest]]:
    """A service that takes the callback URL from the body, acknowledges job-42, then sends ``deliveries``."""

    async def main() -> tuple[Outcome, list[RawRequest]]:
        sent: list[asyncio.Task[None]] = []

        async def call_back(url: str) -> None:
            async with httpx.AsyncClient() as client:
                for headers, body in deliveries:
                    await client.post(url, content=body, headers={**headers, "Content-Type": "application/json"})

        async def service(request: RawRequest) -> AsyncIterator[bytes | float]:
            yield json_response(202, {"job": {"id": "job-42", "status": "queued"}})
            sent.append(asyncio.create_task(call_back(json.loads(request.body)["webhook"]["url"])))

        async with ScriptedServer(service) as server, httpx.AsyncClient() as client:
            request = Request(
                endpoint="prod",
                method="POST",
                url=server.url + "/jobs",
                spec=SPEC,
                json={"input": {"question": "q"}},
                timeout_s=1.5,
                secrets=(SECRET,),
            )
            outcome = await CallbackAdapter(receiver, settle_s=0.3).deliver(client, request)
            await asyncio.gather(*sent)
            return outcome, server.requests

    return asyncio.run(main())


def kinds(outcome: Outcome) -> list[str]:
    return [p.kind for p in outcome.problems]


def test_github_signed_delivery_is_verified_and_its_url_went_in_the_body(receiver: CallbackReceiver) -> None:
    outcome, requests = run(receiver, captured("webhook_github_delivery_ok"))
    assert kinds(outcome) == []
    assert outcome.text == "Le café est prêt.\nMitochondria make ATP."
    assert outcome.sources == ["biology/cells.md"]
    sent = json.loads(requests[0].body)
    assert sent["webhook"]["url"].startswith(receiver.url + "/callbacks/")
    assert "callback-url" not in requests[0].headers  # url_header: null
    assert outcome.request["body"]["webhook"]["url"] == sent["webhook"]["url"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("webhook_github_delivery_tampered", "callback_bad_signature"),
        ("webhook_github_delivery_wrong_secret", "callback_bad_signature"),
        ("webhook_github_delivery_unsigned", "callback_unsigned"),
    ],
)
def test_forged_or_unsigned_github_deliveries_are_never_the_result(
    receiver: CallbackReceiver, name: str, kind: str
) -> None:
    outcome, _ = run(receiver, captured(name))
    assert kinds(outcome) == [kind]
    assert outcome.text is None
    if kind == "callback_unsigned":
        assert "X-Hub-Signature-256 header" in outcome.problems[0].message


def test_redelivery_is_named_by_the_delivery_id_header(receiver: CallbackReceiver) -> None:
    delivery = captured("webhook_github_delivery_ok")
    outcome, _ = run(receiver, delivery, delivery)
    assert kinds(outcome) == ["callback_duplicate"]
    assert "72d3162e-cc78-11e3-81ab-4c9367dc0958" in outcome.problems[0].message


def test_a_signed_delivery_replayed_to_another_job_is_rejected(receiver: CallbackReceiver) -> None:
    delivery = captured("webhook_github_delivery_ok")
    first, _ = run(receiver, delivery)
    again, _ = run(receiver, delivery)
    assert (kinds(first), kinds(again)) == ([], ["callback_replayed"])


def test_failed_status_is_named_with_the_jobs_own_words(receiver: CallbackReceiver) -> None:
    failed = {"job": {"id": "job-42", "status": "failed", "error": {"message": "model raised"}}}
    outcome, _ = run(receiver, signed(failed))
    assert kinds(outcome) == ["job_failed"]
    assert "ended with status 'failed'" in outcome.problems[0].message
    assert "model raised" in outcome.problems[0].message
    assert outcome.text is None
    assert outcome.body == failed


def test_status_the_spec_does_not_know_is_named(receiver: CallbackReceiver) -> None:
    odd = {"job": {"id": "job-42", "status": "paused", "output": {"text": "partial"}}}
    outcome, _ = run(receiver, signed(odd))
    assert kinds(outcome) == ["callback_unknown_status"]
    assert "'paused'" in outcome.problems[0].message
    assert outcome.text is None


def test_callback_url_must_go_somewhere() -> None:
    with pytest.raises(ValueError, match="the receiver's URL goes nowhere"):
        EndpointSpec.model_validate({"path": "/j", "delivery": "callback", "callback": {"url_header": None}})
