"""examgenerator over real HTTP: QA, async create with signed callbacks, retries, bad input."""

from __future__ import annotations

import queue
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from reference_services import RunningStack
from tests.support.callback_receiver import CallbackReceiver
from tests.support.reference_calls import EXAM, assert_exam, create, qa_exam, qa_headers


def verified(stack: RunningStack, cb: Any) -> dict[str, Any]:
    return Webhook(stack.callback_secret).verify(cb.body, cb.headers)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("title", "topic", "count"),
    [
        ("Introduction to Biology", "Cell Structure", 5),
        ("Macroeconomics 201", "GDP", 50),
        ("Chemistry", "Atoms", 3),
        ("Art History", "Baroque Painting", 7),
    ],
)
def test_qa_exam_has_the_format(stack: RunningStack, client: httpx.Client, title: str, topic: str, count: int) -> None:
    r = qa_exam(stack, client, {"course_title": title, "course_topic": topic, "num_questions": count})
    assert r.status_code == 200
    assert r.json()["model_version"] == stack.settings.model_name
    assert_exam(r.json()["text"], count)


def test_some_questions_have_two_answers(stack: RunningStack, client: httpx.Client) -> None:
    text = qa_exam(stack, client, {**EXAM, "num_questions": 12}).json()["text"]
    assert "Correct Answers: b) and d)" in text


def test_qa_redacts_pii(stack: RunningStack, client: httpx.Client) -> None:
    body = {"course_title": "Macroeconomics 201", "course_topic": "GDP", "num_questions": 10}
    text = qa_exam(stack, client, body).json()["text"]
    assert "[redacted email]" in text
    assert "[redacted phone]" in text
    assert "@" not in text


def test_create_acks_and_posts_a_signed_callback_equal_to_qa(
    stack: RunningStack, client: httpx.Client, receiver: CallbackReceiver
) -> None:
    ack = create(stack, client, EXAM, receiver.url())
    assert ack.status_code == 202
    assert ack.json()["success"] is True
    callback_id = ack.json()["callback-id"]
    cb = receiver.wait()
    payload = verified(stack, cb)
    assert payload["callback-id"] == callback_id
    assert payload["status"] == "succeeded"
    assert payload["model_version"] == stack.settings.model_name
    assert payload["text"] == qa_exam(stack, client, EXAM).json()["text"]
    assert cb.headers["webhook-id"].startswith("msg_")


def test_a_tampered_callback_fails_verification(
    stack: RunningStack, client: httpx.Client, receiver: CallbackReceiver
) -> None:
    create(stack, client, EXAM, receiver.url())
    cb = receiver.wait()
    with pytest.raises(WebhookVerificationError):
        Webhook(stack.callback_secret).verify(cb.body.replace(b"succeeded", b"failed"), cb.headers)


def test_callbacks_are_retried_until_the_receiver_accepts(
    make_stack, client: httpx.Client, receiver: CallbackReceiver
) -> None:  # type: ignore[no-untyped-def]
    fast = make_stack(callback_backoff_initial_s=0.01, callback_backoff_max_s=0.05)
    receiver.fail_first = 2
    create(fast, client, EXAM, receiver.url())
    attempts = [receiver.wait() for _ in range(3)]
    assert [a.status for a in attempts] == [500, 500, 200]
    assert len({a.headers["webhook-id"] for a in attempts}) == 1
    for attempt in attempts:
        assert verified(fast, attempt)["status"] == "succeeded"


def test_retries_are_bounded(make_stack, client: httpx.Client, receiver: CallbackReceiver) -> None:  # type: ignore[no-untyped-def]
    fast = make_stack(callback_backoff_initial_s=0.01, callback_backoff_max_s=0.02, callback_max_attempts=3)
    receiver.fail_first = 10
    create(fast, client, EXAM, receiver.url())
    assert [receiver.wait().status for _ in range(3)] == [500, 500, 500]
    with pytest.raises(queue.Empty):
        receiver.wait(timeout=0.5)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://evil.example.com/cb", "not in the callback allow-list"),
        ("/some/client/url", "absolute http(s) URL"),
        ("ftp://127.0.0.1/cb", "absolute http(s) URL"),
        ("http://127.0.0.1:notaport/cb", "not a valid URL"),
    ],
)
def test_callback_url_must_be_allowed(stack: RunningStack, client: httpx.Client, url: str, message: str) -> None:
    r = create(stack, client, EXAM, url)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "callback-url"]
    assert message in r.json()["detail"][0]["msg"]


def test_callback_url_header_is_required(stack: RunningStack, client: httpx.Client) -> None:
    r = client.post(f"{stack.base_url}/examgenerator/create", json=EXAM)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "Callback-Url"]


BAD_BODIES: list[Any] = [
    {},
    {**EXAM, "num_questions": 0},
    {**EXAM, "num_questions": 51},
    {**EXAM, "num_questions": "5"},
    {**EXAM, "num_questions": 2.5},
    {**EXAM, "course_topic": ""},
    {**EXAM, "course_topic": "   "},
    {**EXAM, "course_topic": "x" * 201},
    {**EXAM, "course_title": None},
    {**EXAM, "extra": 1},
    [EXAM],
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_bodies_are_422_identically_on_prod_and_qa(
    stack: RunningStack, client: httpx.Client, receiver: CallbackReceiver, body: Any
) -> None:
    prod = create(stack, client, body, receiver.url())
    qa = qa_exam(stack, client, body)
    assert prod.status_code == qa.status_code == 422
    assert prod.json() == qa.json()
    assert prod.json()["detail"]


def test_malformed_json_is_422_on_both(stack: RunningStack, client: httpx.Client, receiver: CallbackReceiver) -> None:
    headers = {"Content-Type": "application/json"}
    prod = client.post(
        f"{stack.base_url}/examgenerator/create", content=b"{bad", headers={**headers, "Callback-Url": receiver.url()}
    )
    qa = client.post(
        f"{stack.base_url}/examgenerator/create/qa", content=b"{bad", headers={**headers, **qa_headers(stack)}
    )
    assert prod.status_code == qa.status_code == 422
    assert prod.json() == qa.json()
    assert prod.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Basic abc", "Bearer"])
def test_qa_needs_the_token(stack: RunningStack, client: httpx.Client, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    r = client.post(f"{stack.base_url}/examgenerator/create/qa", json=EXAM, headers=headers)
    assert r.status_code == 401
    assert "bearer token" in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"
