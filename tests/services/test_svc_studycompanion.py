"""studycompanion over real HTTP: the SSE stream against the QA reply, memory, retrieval, bad input."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from reference_services import RunningStack
from tests.support.reference_calls import (
    CONTACT,
    FOLLOW_UP,
    MACRO,
    NOMINAL_REAL,
    VALDEZ,
    chat_body,
    qa_chat,
    read_stream,
)


def conv() -> str:
    return uuid.uuid4().hex


@pytest.mark.parametrize("message", [NOMINAL_REAL, VALDEZ, CONTACT, "What is the capital of France?"])
def test_stream_text_equals_the_qa_reply(stack: RunningStack, client: httpx.Client, message: str) -> None:
    conversation = conv()
    streamed = read_stream(stack, client, chat_body(message, conversation))
    qa = qa_chat(stack, client, chat_body(message, conversation)).json()
    assert streamed.content_type == "text/event-stream; charset=utf-8"
    assert streamed.done
    assert streamed.error is None
    assert len(streamed.deltas) > 1
    assert streamed.text == qa["reply"]
    assert streamed.end == {"model_version": qa["model_version"], "sources": qa["sources"]}


def test_multiline_deltas_use_several_data_lines(stack: RunningStack, client: httpx.Client) -> None:
    raw = client.post(f"{stack.base_url}/studycompanion/chat/stream", json=chat_body(NOMINAL_REAL, conv())).text
    assert "data: \ndata: \n\n" in raw  # a delta ending in a blank line
    assert raw.endswith("event: end\n" + raw.split("event: end\n")[1])
    assert raw.endswith("data: [DONE]\n\n")


def test_answers_quote_the_course_materials(stack: RunningStack, client: httpx.Client) -> None:
    reply = qa_chat(stack, client, chat_body(NOMINAL_REAL, conv())).json()
    assert "real GDP uses base-year prices" in reply["reply"]
    assert reply["sources"][0] == "macro201/lecture-notes-gdp"
    assert "sorry" not in reply["reply"].lower()


def test_follow_up_sees_the_conversation(stack: RunningStack, client: httpx.Client) -> None:
    conversation = conv()
    first = qa_chat(stack, client, chat_body(NOMINAL_REAL, conversation)).json()
    follow = qa_chat(stack, client, chat_body(FOLLOW_UP, conversation)).json()
    assert "follow" in follow["reply"].lower()
    assert "follow" not in first["reply"].lower()
    assert "rises" in follow["reply"]
    assert "fall" in follow["reply"]
    streamed_first = read_stream(stack, client, chat_body(NOMINAL_REAL, conversation))
    streamed_follow = read_stream(stack, client, chat_body(FOLLOW_UP, conversation))
    assert (streamed_first.text, streamed_follow.text) == (first["reply"], follow["reply"])


def test_past_exam_question_is_answered_from_past_exams(stack: RunningStack, client: httpx.Client) -> None:
    reply = qa_chat(stack, client, chat_body(VALDEZ, conv())).json()
    assert "GDP measurement, inflation and the CPI, and unemployment — study all three" in reply["reply"]
    assert "macro201/past-exam-1" in reply["sources"]


def test_uncovered_questions_get_sorry(stack: RunningStack, client: httpx.Client) -> None:
    reply = qa_chat(stack, client, chat_body("Who won the 1998 football world cup?", conv())).json()["reply"]
    assert "sorry" in reply.lower()
    assert "can't find" in reply


def test_contact_details_are_redacted(stack: RunningStack, client: httpx.Client) -> None:
    conversation = conv()
    qa = qa_chat(stack, client, chat_body(CONTACT, conversation)).json()["reply"]
    streamed = read_stream(stack, client, chat_body(CONTACT, conversation)).text
    for text in (qa, streamed):
        assert "[redacted email]" in text
        assert "[redacted phone]" in text
        assert "northfield.example.edu" not in text


def test_second_course_works_and_course_names_are_case_insensitive(stack: RunningStack, client: httpx.Client) -> None:
    reply = qa_chat(
        stack, client, chat_body("What does the cell membrane do?", conv(), course="introduction to biology")
    ).json()
    assert "regulates the passage of substances" in reply["reply"]
    assert reply["sources"][0] == "bio101/lecture-notes-cells"


GOOD = chat_body("What is GDP?", "c-bad")
BAD_BODIES: list[Any] = [
    {},
    {**GOOD, "message": ""},
    {**GOOD, "message": "x" * 4001},
    {**GOOD, "user_id": 5},
    {k: v for k, v in GOOD.items() if k != "conversation_id"},
    {**GOOD, "course": "Underwater Basket Weaving"},
    "just a string",
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_bodies_are_422_identically_on_prod_and_qa(stack: RunningStack, client: httpx.Client, body: Any) -> None:
    prod = client.post(f"{stack.base_url}/studycompanion/chat/stream", json=body)
    qa = qa_chat(stack, client, body)
    assert prod.status_code == qa.status_code == 422
    assert prod.json() == qa.json()


def test_unknown_course_lists_the_known_ones(stack: RunningStack, client: httpx.Client) -> None:
    detail = qa_chat(stack, client, {**GOOD, "course": "Nope"}).json()["detail"][0]
    assert detail["loc"] == ["body", "course"]
    assert "Introduction to Biology, Macroeconomics 201" in detail["msg"]


def test_qa_needs_the_token(stack: RunningStack, client: httpx.Client) -> None:
    r = client.post(f"{stack.base_url}/studycompanion/chat/qa", json=GOOD)
    assert r.status_code == 401
    assert r.json()["detail"].startswith("QA endpoint")


def test_max_length_message_is_accepted(stack: RunningStack, client: httpx.Client) -> None:
    assert qa_chat(stack, client, {**GOOD, "message": "GDP " * 1000}).status_code == 200


def test_course_constant() -> None:
    assert MACRO == "Macroeconomics 201"
