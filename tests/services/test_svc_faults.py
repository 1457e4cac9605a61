"""Each fault produces its symptom on its endpoint, and the other side stays healthy."""

from __future__ import annotations

import queue
import re
import uuid

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from reference_services import RunningStack
from tests.support.callback_receiver import CallbackReceiver
from tests.support.reference_calls import (
    CONTACT,
    EXAM,
    VALDEZ,
    assert_exam,
    chat_body,
    create,
    qa_chat,
    qa_exam,
    qa_headers,
    read_stream,
)

MACRO_EXAM = {"course_title": "Macroeconomics 201", "course_topic": "GDP", "num_questions": 10}
CHOICE_LINE = re.compile(r"^[a-d]\)  ", re.M)


def prod_exam(stack: RunningStack, client: httpx.Client, receiver: CallbackReceiver, body: dict) -> dict:  # type: ignore[type-arg]
    create(stack, client, body, receiver.url())
    cb = receiver.wait()
    return Webhook(stack.callback_secret).verify(cb.body, cb.headers)  # type: ignore[no-any-return]


def test_prod_drops_choices(make_stack, client: httpx.Client, receiver: CallbackReceiver) -> None:  # type: ignore[no-untyped-def]
    s = make_stack("prod_drops_choices")
    prod = prod_exam(s, client, receiver, EXAM)["text"]
    assert not CHOICE_LINE.search(prod)
    assert prod.count("Correct Answer") == 5
    assert_exam(qa_exam(s, client, EXAM).json()["text"], 5)


def test_swap_temperature_top_p_degrades_prod_only(
    make_stack, client: httpx.Client, receiver: CallbackReceiver
) -> None:  # type: ignore[no-untyped-def]
    s = make_stack("swap_temperature_top_p")
    prod = prod_exam(s, client, receiver, EXAM)["text"]
    assert "Question: " in prod
    assert re.search(r"[a-d]\)  .* [a-d]\)  ", prod), "choices merged onto one line"
    assert len(CHOICE_LINE.findall(prod)) < 20
    assert_exam(qa_exam(s, client, EXAM).json()["text"], 5)


def test_unindexed_past_exams_gives_sorry_on_both(make_stack, client: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    s = make_stack("unindexed_past_exams")
    conversation = uuid.uuid4().hex
    qa = qa_chat(s, client, chat_body(VALDEZ, conversation)).json()
    streamed = read_stream(s, client, chat_body(VALDEZ, conversation))
    for text in (qa["reply"], streamed.text):
        assert "sorry" in text.lower()
    assert "macro201/past-exam-1" not in qa["sources"]
    assert streamed.done


def test_stream_mojibake(make_stack, client: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    s = make_stack("stream_mojibake")
    conversation = uuid.uuid4().hex
    streamed = read_stream(s, client, chat_body(VALDEZ, conversation))
    qa = qa_chat(s, client, chat_body(VALDEZ, conversation)).json()["reply"]
    assert "—" in qa
    assert "â€”" in streamed.text
    assert "—" not in streamed.text
    assert streamed.done


def test_stream_truncated(make_stack, client: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    s = make_stack("stream_truncated")
    conversation = uuid.uuid4().hex
    streamed = read_stream(s, client, chat_body(VALDEZ, conversation))
    qa = qa_chat(s, client, chat_body(VALDEZ, conversation)).json()["reply"]
    assert not streamed.done
    assert streamed.end is None
    assert streamed.deltas
    assert qa.startswith(streamed.text)
    assert len(streamed.text) < len(qa)


@pytest.mark.parametrize("auth", [{}, {"Authorization": "Bearer wrong"}])
def test_qa_auth_disabled(make_stack, client: httpx.Client, auth: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    s = make_stack("qa_auth_disabled")
    assert client.post(f"{s.base_url}/examgenerator/create/qa", json=EXAM, headers=auth).status_code == 200
    body = chat_body("What is GDP?", uuid.uuid4().hex)
    assert client.post(f"{s.base_url}/studycompanion/chat/qa", json=body, headers=auth).status_code == 200


def test_pii_leak_on_prod_only(make_stack, client: httpx.Client, receiver: CallbackReceiver) -> None:  # type: ignore[no-untyped-def]
    s = make_stack("pii_leak")
    assert "e.valdez@northfield.example.edu" in prod_exam(s, client, receiver, MACRO_EXAM)["text"]
    assert "@" not in qa_exam(s, client, MACRO_EXAM).json()["text"]
    conversation = uuid.uuid4().hex
    streamed = read_stream(s, client, chat_body(CONTACT, conversation)).text
    qa = qa_chat(s, client, chat_body(CONTACT, conversation)).json()["reply"]
    assert "e.valdez@northfield.example.edu" in streamed
    assert "(555) 201-4477" in streamed
    assert "[redacted email]" in qa


def test_callback_wrong_id(make_stack, client: httpx.Client, receiver: CallbackReceiver) -> None:  # type: ignore[no-untyped-def]
    s = make_stack("callback_wrong_id")
    ack = create(s, client, EXAM, receiver.url()).json()
    cb = receiver.wait()
    payload = Webhook(s.callback_secret).verify(cb.body, cb.headers)
    assert payload["callback-id"] != ack["callback-id"]
    assert payload["status"] == "succeeded"


def test_callback_never(make_stack, client: httpx.Client, receiver: CallbackReceiver) -> None:  # type: ignore[no-untyped-def]
    s = make_stack("callback_never")
    assert create(s, client, EXAM, receiver.url()).status_code == 202
    with pytest.raises(queue.Empty):
        receiver.wait(timeout=1.0)
    assert qa_exam(s, client, EXAM).status_code == 200


def test_callback_duplicate(make_stack, client: httpx.Client, receiver: CallbackReceiver) -> None:  # type: ignore[no-untyped-def]
    s = make_stack("callback_duplicate")
    ack = create(s, client, EXAM, receiver.url()).json()
    first, second = receiver.wait(), receiver.wait()
    assert first.json() == second.json()
    assert first.json()["callback-id"] == ack["callback-id"]
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    with pytest.raises(queue.Empty):
        receiver.wait(timeout=0.3)


def test_error_parity(make_stack, client: httpx.Client, receiver: CallbackReceiver) -> None:  # type: ignore[no-untyped-def]
    s = make_stack("error_parity")
    bad = {**EXAM, "num_questions": 0}
    assert create(s, client, bad, receiver.url()).status_code == 422
    qa = qa_exam(s, client, bad)
    assert qa.status_code == 500
    assert qa.json()["error"]["type"] == "internal_error"
    chat_bad = chat_body("", "x")
    assert client.post(f"{s.base_url}/studycompanion/chat/stream", json=chat_bad).status_code == 422
    assert qa_chat(s, client, chat_bad).status_code == 500
    assert qa_exam(s, client, EXAM).status_code == 200


def test_model_version_skew(make_stack, client: httpx.Client, receiver: CallbackReceiver) -> None:  # type: ignore[no-untyped-def]
    s = make_stack("model_version_skew")
    prod = prod_exam(s, client, receiver, EXAM)
    qa = qa_exam(s, client, EXAM).json()
    assert prod["model_version"] != qa["model_version"] == s.settings.model_name
    assert prod["text"] == qa["text"]
    conversation = uuid.uuid4().hex
    streamed = read_stream(s, client, chat_body(VALDEZ, conversation))
    assert streamed.end is not None
    assert streamed.end["model_version"] != qa_chat(s, client, chat_body(VALDEZ, conversation)).json()["model_version"]


def test_faults_leave_healthy_stack_alone(stack: RunningStack, client: httpx.Client) -> None:
    r = client.post(f"{stack.base_url}/examgenerator/create/qa", json=EXAM, headers=qa_headers(stack))
    assert_exam(r.json()["text"], 5)
