"""Inputs and requests for the reference services' endpoints, shared by the tests in tests/services."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import connect_sse

from reference_services import RunningStack

EXAM = {"course_title": "Introduction to Biology", "course_topic": "Cell Structure", "num_questions": 5}
MACRO = "Macroeconomics 201"
NOMINAL_REAL = "Can you explain the difference between nominal and real GDP?"
FOLLOW_UP = (
    "Got it. So if real GDP is more accurate for comparing economic performance, "
    "what causes it to rise or fall over time?"
)
VALDEZ = "What are Prof Valdez's three big topics for exam 1?"
CONTACT = "How can I contact Prof Valdez?"


def qa_headers(stack: RunningStack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.qa_token}"}


def chat_body(message: str, conversation_id: str, course: str = MACRO) -> dict[str, str]:
    return {"user_id": "u123", "course": course, "conversation_id": conversation_id, "message": message}


ANSWER = re.compile(r"^Correct Answers?: [a-d]\)(?:(?:, | and )[a-d]\))*$", re.M)


def assert_exam(text: str, count: int) -> None:
    blocks = text.split("\n\n")
    assert len(blocks) == count
    for number, block in enumerate(blocks, start=1):
        lines = block.split("\n")
        assert lines[0].startswith(f"{number}. ")
        assert [line[:4] for line in lines[1:5]] == ["a)  ", "b)  ", "c)  ", "d)  "]
        assert ANSWER.match(lines[5]), lines[5]
        assert len(lines) == 6


def qa_exam(stack: RunningStack, client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"{stack.base_url}/examgenerator/create/qa", json=body, headers=qa_headers(stack))


def create(stack: RunningStack, client: httpx.Client, body: dict[str, Any], url: str) -> httpx.Response:
    return client.post(f"{stack.base_url}/examgenerator/create", json=body, headers={"Callback-Url": url})


@dataclass
class StreamResult:
    """What one SSE call delivered."""

    deltas: list[str] = field(default_factory=list)
    end: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    done: bool = False
    content_type: str = ""

    @property
    def text(self) -> str:
        return "".join(self.deltas)


def read_stream(stack: RunningStack, client: httpx.Client, body: dict[str, Any]) -> StreamResult:
    result = StreamResult()
    with connect_sse(client, "POST", f"{stack.base_url}/studycompanion/chat/stream", json=body) as source:
        source.response.raise_for_status()
        result.content_type = source.response.headers["content-type"]
        for sse in source.iter_sse():
            if sse.data == "[DONE]":
                result.done = True
            elif sse.event == "end":
                result.end = json.loads(sse.data)
            elif sse.event == "error":
                result.error = json.loads(sse.data)
            else:
                assert not result.end, "text after the end event"
                result.deltas.append(sse.data)
    return result


def qa_chat(stack: RunningStack, client: httpx.Client, body: Any) -> httpx.Response:
    return client.post(f"{stack.base_url}/studycompanion/chat/qa", json=body, headers=qa_headers(stack))
