"""CallbackAdapter and CallbackReceiver: a scripted job service that acknowledges, then calls back
(well, twice, late, with the wrong id, unsigned, badly signed or never) over real loopback HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from harness._delivery import CallbackAdapter, CallbackReceiver
from harness._delivery._outcome import Outcome
from harness._delivery._receiver import KEPT_PER_JOB
from harness._errors import HarnessError
from harness._model._spec import EndpointSpec, OutputPointers
from tests.support.scripted_http import RawRequest, deliver_scripted, json_response

SECRET = "whsec_" + base64.b64encode(b"harness-test-secret-0123456789ab").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"some-other-secret-0123456789abcd").decode()
SPEC = EndpointSpec(
    path="/exam/create",
    delivery="callback",
    output=OutputPointers(text="/text", metadata={"model_version": "/model_version"}),
)
SETTLE_S = 0.15

Plan = Callable[[str, str], Coroutine[Any, Any, None]]
"""What the service does after acknowledging: (callback_url, job_id) -> calls back, or not."""


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver(secret=SECRET) as started:
        yield started


def payload(job_id: str, **extra: Any) -> dict[str, Any]:
    return {"callback-id": job_id, "status": "succeeded", "text": "1. Q?", "model_version": "m3", **extra}


async def post(
    url: str,
    body: dict[str, Any] | bytes,
    *,
    secret: str | None = SECRET,
    msg_id: str | None = None,
    timestamp: datetime | None = None,
) -> int:
    """POST a callback the way a Standard Webhooks sender does; returns the receiver's status."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        when = timestamp or datetime.now(tz=UTC)
        headers |= {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, when, raw.decode()),
        }
    async with httpx.AsyncClient() as client:
        return (await client.post(url, content=raw, headers=headers)).status_code


def run_job(
    receiver: CallbackReceiver,
    plan: Plan,
    *,
    timeout_s: float = 3.0,
    ack_status: int = 202,
    ack_body: dict[str, Any] | None = None,
    after: Callable[[], Awaitable[None]] | None = None,
    settle_s: float = SETTLE_S,
) -> tuple[Outcome, list[RawRequest]]:
    """Run one callback delivery against a scripted service that follows ``plan``."""

    async def main() -> tuple[Outcome, list[RawRequest]]:
        jobs: list[asyncio.Task[None]] = []

        async def service(request: RawRequest) -> AsyncIterator[bytes | float]:
            job_id = str(uuid.uuid4())
            body = ack_body if ack_body is not None else {"success": True, "callback-id": job_id}
            yield json_response(ack_status, body)
            if 200 <= ack_status < 300:
                jobs.append(asyncio.create_task(plan(request.headers["callback-url"], job_id)))

        async def settle() -> None:
            if after is not None:
                await after()
            await asyncio.gather(*jobs)

        adapter = CallbackAdapter(receiver, settle_s=settle_s)
        return await deliver_scripted(
            adapter,
            service,
            endpoint="prod",
            spec=SPEC,
            json={"course_title": "Bio"},
            timeout_s=timeout_s,
            settle=settle,
        )

    return asyncio.run(main())


def kinds(outcome: Outcome) -> list[str]:
    return sorted(problem.kind for problem in outcome.problems)


def test_signed_delivery_is_the_result(receiver: CallbackReceiver) -> None:
    answers: list[int] = []

    async def plan(url: str, job_id: str) -> None:
        await asyncio.sleep(0.05)
        answers.append(await post(url, payload(job_id)))

    outcome, seen = run_job(receiver, plan)
    assert kinds(outcome) == []
    assert answers == [200]
    assert outcome.status == 202
    assert outcome.body is not None
    assert outcome.body["status"] == "succeeded"
    assert outcome.text == "1. Q?"
    assert outcome.metadata == {"model_version": "m3"}
    assert outcome.timings.ack_s is not None
    assert outcome.timings.total_s is not None
    assert outcome.timings.ack_s < outcome.timings.total_s
    # The service was given a per-request URL on the receiver, and the record shows it for curl.
    assert seen[0].headers["callback-url"].startswith(receiver.url + "/callbacks/")
    assert outcome.request["headers"]["Callback-Url"] == seen[0].headers["callback-url"]
    assert any("(ok: signature valid)" in line for line in outcome.transcript)
    assert not any(SECRET in line for line in outcome.transcript)


def test_failed_job_is_an_outcome_not_a_problem(receiver: CallbackReceiver) -> None:
    async def plan(url: str, job_id: str) -> None:
        await post(url, {"callback-id": job_id, "status": "failed", "error": {"type": "x", "message": "y"}})

    outcome, _ = run_job(receiver, plan)
    assert kinds(outcome) == []
    assert outcome.body["status"] == "failed"
    assert outcome.text is None


def test_second_delivery_is_a_duplicate(receiver: CallbackReceiver) -> None:
    answers: list[int] = []

    async def plan(url: str, job_id: str) -> None:
        answers.append(await post(url, payload(job_id, text="first")))
        answers.append(await post(url, payload(job_id, text="second")))

    # Each post opens a connection: on a busy machine the next can take longer than SETTLE_S.
    outcome, _ = run_job(receiver, plan, settle_s=1.0)
    assert kinds(outcome) == ["callback_duplicate"]
    assert "2 times" in outcome.problems[0].message
    assert "separate messages" in outcome.problems[0].message
    assert outcome.text == "first"
    assert answers == [200, 200]  # duplicates are still acknowledged, so the service stops


def test_redelivery_of_the_same_message_is_recognised_by_webhook_id(receiver: CallbackReceiver) -> None:
    async def plan(url: str, job_id: str) -> None:
        for _ in range(3):
            await post(url, payload(job_id), msg_id="msg_same")

    outcome, _ = run_job(receiver, plan, settle_s=1.0)
    assert kinds(outcome) == ["callback_duplicate"]
    assert "the same message (webhook-id msg_same)" in outcome.problems[0].message
    assert "3 times" in outcome.problems[0].message


def test_wrong_payload_id(receiver: CallbackReceiver) -> None:
    async def plan(url: str, job_id: str) -> None:
        await post(url, payload("not-" + job_id))

    outcome, _ = run_job(receiver, plan)
    assert kinds(outcome) == ["callback_wrong_id"]
    assert "not-" in outcome.problems[0].message
    # Still matched by its URL, so the result is there for the checks.
    assert outcome.text == "1. Q?"


def test_unsigned_delivery_with_a_secret_set(receiver: CallbackReceiver) -> None:
    answers: list[int] = []

    async def plan(url: str, job_id: str) -> None:
        answers.append(await post(url, payload(job_id), secret=None))

    outcome, _ = run_job(receiver, plan, timeout_s=0.5)
    assert kinds(outcome) == ["callback_unsigned"]
    assert "no verified callback" in outcome.problems[0].message
    assert answers == [401]
    # Anyone can post an unsigned body: it is never the result.
    assert outcome.body is None
    assert outcome.text is None


def test_bad_signature_and_its_retry_is_not_a_duplicate(receiver: CallbackReceiver) -> None:
    answers: list[int] = []

    async def plan(url: str, job_id: str) -> None:
        for _ in range(2):  # a well-behaved service retries a rejected delivery with the same id
            answers.append(await post(url, payload(job_id), secret=OTHER_SECRET, msg_id="msg_retry"))

    outcome, _ = run_job(receiver, plan, timeout_s=0.5)
    assert kinds(outcome) == ["callback_bad_signature"]
    assert "same secret" in outcome.problems[0].message
    assert answers == [401, 401]
    assert outcome.body is None


def test_stale_timestamp_fails_verification(receiver: CallbackReceiver) -> None:
    async def plan(url: str, job_id: str) -> None:
        await post(url, payload(job_id), timestamp=datetime(2020, 1, 1, tzinfo=UTC))

    outcome, _ = run_job(receiver, plan, timeout_s=0.5)
    assert kinds(outcome) == ["callback_bad_signature"]
    assert "too old" in outcome.problems[0].message
    assert outcome.body is None


FORGERIES: dict[str, dict[str, Any]] = {
    "unsigned": {"secret": None},
    "wrongly signed": {"secret": OTHER_SECRET},
    "stale replay": {"timestamp": datetime(2020, 1, 1, tzinfo=UTC)},
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_callback_before_the_genuine_one_is_not_the_result(receiver: CallbackReceiver, forgery: str) -> None:
    answers: list[int] = []

    async def plan(url: str, job_id: str) -> None:
        forged = payload(job_id, text="forged", status="failed")
        answers.append(await post(url, forged, **FORGERIES[forgery]))
        # Well after the settle time: a forgery that ended the wait would make this one late.
        await asyncio.sleep(SETTLE_S + 0.35)
        answers.append(await post(url, payload(job_id)))

    outcome, _ = run_job(receiver, plan)
    assert answers == [401, 200]
    assert kinds(outcome) == []
    assert outcome.text == "1. Q?"
    assert outcome.body["status"] == "succeeded"
    # The rejected one is still in the transcript, marked as not used.
    assert any("-> 401" in line and "rejected, not used" in line for line in outcome.transcript)
    assert outcome.timings.total_s is not None
    assert outcome.timings.total_s > SETTLE_S + 0.3


def test_a_forgery_with_a_wrong_job_id_does_not_taint_the_genuine_result(receiver: CallbackReceiver) -> None:
    async def plan(url: str, job_id: str) -> None:
        await post(url, payload("someone-else"), secret=OTHER_SECRET)
        await post(url, payload(job_id))

    outcome, _ = run_job(receiver, plan)
    assert kinds(outcome) == []
    assert outcome.text == "1. Q?"


def test_forgeries_alone_are_named_problems_after_the_wait(receiver: CallbackReceiver) -> None:
    async def plan(url: str, job_id: str) -> None:
        await post(url, payload(job_id), secret=None)
        await post(url, payload(job_id), secret=OTHER_SECRET)

    started = time.perf_counter()
    outcome, _ = run_job(receiver, plan, timeout_s=0.6)
    # The wait ran to its end (no early stop at the first arrival), then the rejections are the failure.
    assert time.perf_counter() - started >= 0.6
    assert kinds(outcome) == ["callback_bad_signature", "callback_unsigned"]
    assert all("no verified callback" in problem.message for problem in outcome.problems)
    assert outcome.body is None


def test_a_flood_of_forgeries_is_refused_past_the_jobs_share_and_named(receiver: CallbackReceiver) -> None:
    statuses: list[int] = []

    async def plan(url: str, job_id: str) -> None:
        for _ in range(KEPT_PER_JOB + 5):
            statuses.append(await post(url, payload(job_id), secret=OTHER_SECRET))
        statuses.append(await post(url, payload(job_id)))  # the genuine one, too late to be read

    # The wait is generous: on a busy machine the 26 posts may still be under way when a short one ends, and the
    # problem counts the refusals seen by then.
    outcome, _ = run_job(receiver, plan, timeout_s=6.0)
    assert statuses == [401] * KEPT_PER_JOB + [429] * 6
    assert kinds(outcome) == ["callback_bad_signature", "callback_flood"]
    flood = next(problem.message for problem in outcome.problems if problem.kind == "callback_flood")
    assert re.match(rf"[1-6] more callback\(s\) answered 429 unread: a job may send {KEPT_PER_JOB} callbacks", flood)
    assert outcome.transcript[-2].startswith("~ no authentic callback within")
    assert re.match(r"~ [1-6] more callback\(s\) answered 429 unread", outcome.transcript[-1])


@pytest.mark.parametrize("size", [60_000, 9_000_000])
def test_a_large_one_word_reply_does_not_stall_the_loop(receiver: CallbackReceiver, size: int) -> None:
    # Other cases' deadlines run on the same loop: masking and rendering a large body must not block it.
    word = "w" * size
    gaps: list[float] = []

    async def plan(url: str, job_id: str) -> None:
        assert await post(url, payload(job_id, text=word)) == 200
        last = time.perf_counter()
        for _ in range(60):  # past the settle time, when the adapter renders the transcript
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    outcome, _ = run_job(receiver, plan)
    assert kinds(outcome) == []
    assert outcome.text == word
    assert max(gaps) < 2.0  # the old on-loop masking blocked it for ~10 s at 60 KB


def test_a_signed_message_replayed_from_another_job_is_rejected(receiver: CallbackReceiver) -> None:
    answers: list[int] = []

    async def plan(url: str, job_id: str) -> None:
        # A genuine, validly signed delivery to another job, captured and re-sent to this job's URL.
        other = receiver.expect()
        captured = {"body": payload(job_id, text="another job's exam"), "msg_id": f"msg_{uuid.uuid4().hex}"}
        when = datetime.now(tz=UTC)
        answers.append(await post(other.url, **captured, timestamp=when))
        answers.append(await post(url, **captured, timestamp=when))
        other.close()

    outcome, _ = run_job(receiver, plan, timeout_s=0.5)
    assert answers == [200, 401]
    assert kinds(outcome) == ["callback_replayed"]
    assert "already delivered to another job's callback URL" in outcome.problems[0].message
    assert outcome.body is None


def test_never_sent_is_reported_after_a_bounded_wait(receiver: CallbackReceiver) -> None:
    async def plan(url: str, job_id: str) -> None:
        pass

    started = time.perf_counter()
    outcome, seen = run_job(receiver, plan, timeout_s=0.4)
    assert kinds(outcome) == ["callback_never_arrived"]
    message = outcome.problems[0].message
    assert "waited 0.4 s" in message
    assert seen[0].headers["callback-url"] in message
    assert outcome.body is None
    assert time.perf_counter() - started < 2.0


def test_late_delivery_is_recorded_by_the_receiver(receiver: CallbackReceiver) -> None:
    answers: list[int] = []

    async def plan(url: str, job_id: str) -> None:
        await asyncio.sleep(0.6)
        answers.append(await post(url, payload(job_id)))

    outcome, _ = run_job(receiver, plan, timeout_s=0.3)
    assert kinds(outcome) == ["callback_never_arrived"]
    assert answers == [200]
    job_id = outcome.problems[0].message.split("for job ")[1].split(" ")[0]
    late = [d for d in receiver.late_deliveries() if d.job_id == job_id]
    assert len(late) == 1
    assert late[0].late
    assert late[0].payload["callback-id"] == job_id


def test_late_delivery_before_the_outcome_returns_is_reported() -> None:
    # A wait that ends just before the delivery: drive the slot directly to pin the race down.
    async def main() -> list[str]:
        with CallbackReceiver() as plain:
            slot = plain.expect()
            assert not await slot.wait(0.05)
            slot.close()
            status = await post(slot.url, {"callback-id": "j"}, secret=None)
            assert status == 200
            _, late = slot.close()
            return [d.token for d in late]

    assert len(asyncio.run(main())) == 1


def test_receiver_without_secret_accepts_unsigned_deliveries() -> None:
    with CallbackReceiver() as plain:

        async def plan(url: str, job_id: str) -> None:
            await post(url, payload(job_id), secret=None)

        outcome, _ = run_job(plain, plan)
    assert kinds(outcome) == []
    assert any("(unverified: no secret set)" in line for line in outcome.transcript)


def test_public_url_is_what_services_are_given() -> None:
    with CallbackReceiver(public_url="http://harness.example:9999/hooks/") as proxied:
        real = f"http://127.0.0.1:{proxied.port}"

        async def plan(url: str, job_id: str) -> None:
            # The service only knows the public address; a proxy forwards it to the receiver.
            assert url.startswith("http://harness.example:9999/hooks/callbacks/")
            await post(url.replace("http://harness.example:9999", real), payload(job_id))

        outcome, _ = run_job(proxied, plan)
    assert proxied.url == "http://harness.example:9999/hooks"
    assert kinds(outcome) == []
    assert outcome.text == "1. Q?"


def test_rejected_request_returns_at_once_without_waiting(receiver: CallbackReceiver) -> None:
    detail = {"detail": [{"msg": "Callback-Url host not allowed"}]}

    async def plan(url: str, job_id: str) -> None:
        raise AssertionError("a rejected job must not call back")

    started = time.perf_counter()
    outcome, _ = run_job(receiver, plan, ack_status=422, ack_body=detail)
    assert outcome.status == 422
    assert outcome.body == detail
    assert outcome.problems == []
    assert time.perf_counter() - started < 1.0


def test_ack_without_job_id(receiver: CallbackReceiver) -> None:
    async def plan(url: str, job_id: str) -> None:
        await post(url, payload(job_id))

    outcome, _ = run_job(receiver, plan, ack_body={"success": True})
    assert kinds(outcome) == ["callback_no_ack_id"]
    assert outcome.text == "1. Q?"


def test_unknown_path_and_non_json_body(receiver: CallbackReceiver) -> None:
    async def main() -> tuple[int, int]:
        unknown = await post(receiver.url + "/callbacks/nobody-expects-this", {"x": 1})
        slot = receiver.expect()
        not_json = await post(slot.url, b"<html>oops</html>")
        slot.close()
        return unknown, not_json

    assert asyncio.run(main()) == (404, 400)
    assert any(d.path == "/callbacks/nobody-expects-this" for d in receiver.unexpected_deliveries())


def test_receiver_lifecycle_errors() -> None:
    receiver = CallbackReceiver()

    async def expect() -> None:
        receiver.expect()

    with pytest.raises(HarnessError, match="not running"):
        asyncio.run(expect())
    receiver.start()
    try:
        with pytest.raises(HarnessError, match="already running"):
            receiver.start()
        with pytest.raises(HarnessError, match="cannot start"):
            CallbackReceiver(port=receiver.port).start()
    finally:
        receiver.stop()
    assert not receiver.running
    receiver.stop()  # twice is fine


def test_receiver_serves_adapters_on_a_loop_in_another_thread(receiver: CallbackReceiver) -> None:
    import threading

    results: list[Outcome] = []

    async def plan(url: str, job_id: str) -> None:
        await post(url, payload(job_id))

    thread = threading.Thread(target=lambda: results.append(run_job(receiver, plan)[0]))
    thread.start()
    thread.join(timeout=10)
    assert [kinds(outcome) for outcome in results] == [[]]
