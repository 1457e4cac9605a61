"""The embedded model (through the openai client) and behaviour when the model is down."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from openai import OpenAI
from standardwebhooks.webhooks import Webhook

from reference_services import RunningStack
from reference_services.prompts import Passage, build_chat_system_message, build_exam_messages
from tests.support.callback_receiver import CallbackReceiver
from tests.support.reference_calls import EXAM, VALDEZ, chat_body, create, qa_chat, qa_exam, read_stream

PASSAGES = [Passage("c/notes", "Real GDP measures output at constant prices. It removes the effect of inflation.")]
CHAT = [build_chat_system_message("Econ", PASSAGES), {"role": "user", "content": "What does real GDP measure?"}]


@pytest.fixture(scope="module")
def llm(stack: RunningStack) -> OpenAI:
    return OpenAI(base_url=stack.model_base_url, api_key="x", max_retries=0, timeout=10)


def ask(llm: OpenAI, messages: list, **params: object) -> str:  # type: ignore[type-arg]
    r = llm.chat.completions.create(model="reference-llm-1.0", messages=messages, **params)  # type: ignore[call-overload]
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.completion_tokens > 0
    return r.choices[0].message.content  # type: ignore[no-any-return]


def test_streaming_equals_non_streaming(llm: OpenAI) -> None:
    whole = ask(llm, CHAT, seed=1, temperature=0.2)
    stream = llm.chat.completions.create(
        model="m", messages=CHAT, seed=1, temperature=0.2, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None
    assert text == whole
    assert "constant prices" in whole


def test_seeded_output_is_deterministic(llm: OpenAI) -> None:
    exam = build_exam_messages("Introduction to Biology", "Cell Structure", 8)
    assert ask(llm, exam, seed=7, temperature=0.2) == ask(llm, exam, seed=7, temperature=0.2)
    assert ask(llm, CHAT, seed=7, temperature=0.5) == ask(llm, CHAT, seed=7, temperature=0.5)


def test_unseeded_sampling_varies_wording_not_substance(llm: OpenAI) -> None:
    replies = {ask(llm, CHAT, temperature=0.9) for _ in range(12)}
    assert len(replies) > 1
    for reply in replies:
        assert "Real GDP measures output at constant prices." in reply


def test_high_temperature_degrades_the_exam(llm: OpenAI) -> None:
    exam = build_exam_messages("Introduction to Biology", "Cell Structure", 5)
    assert "Question: " in ask(llm, exam, seed=1, temperature=0.9)
    assert "Question: " not in ask(llm, exam, seed=1, temperature=0.2)


def test_latency_settings_delay_the_reply() -> None:
    from reference_services import start_stack

    s = start_stack(model_latency_ms=150, model_token_delay_ms=1)
    try:
        client = OpenAI(base_url=s.model_base_url, api_key="x", max_retries=0)
        started = time.perf_counter()
        ask(client, CHAT, seed=1)
        assert time.perf_counter() - started >= 0.15
    finally:
        s.stop()


def test_determinism_across_qa_and_prod(stack: RunningStack, client: httpx.Client, receiver: CallbackReceiver) -> None:
    first = qa_exam(stack, client, EXAM).json()["text"]
    assert qa_exam(stack, client, EXAM).json()["text"] == first
    create(stack, client, EXAM, receiver.url())
    cb = receiver.wait()
    assert Webhook(stack.callback_secret).verify(cb.body, cb.headers)["text"] == first


# --- model server down --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def down(make_stack) -> RunningStack:  # type: ignore[no-untyped-def]
    return make_stack(model_base_url="http://127.0.0.1:9/v1", model_timeout_s=2.0)  # port 9: nothing listens


def test_model_down_qa_answers_502(down: RunningStack, client: httpx.Client) -> None:
    started = time.perf_counter()
    r = qa_exam(down, client, EXAM)
    assert r.status_code == 502
    assert r.json()["error"]["type"] == "model_unavailable"
    r = qa_chat(down, client, chat_body(VALDEZ, uuid.uuid4().hex))
    assert r.status_code == 502
    assert time.perf_counter() - started < 5


def test_model_down_prod_sends_a_failed_callback(
    down: RunningStack, client: httpx.Client, receiver: CallbackReceiver
) -> None:
    ack = create(down, client, EXAM, receiver.url()).json()
    cb = receiver.wait()
    payload = Webhook(down.callback_secret).verify(cb.body, cb.headers)
    assert payload == {
        "callback-id": ack["callback-id"],
        "status": "failed",
        "error": {"type": "model_unavailable", "message": "the model server could not be reached"},
    }


def test_model_down_stream_ends_with_an_error_event(down: RunningStack, client: httpx.Client) -> None:
    streamed = read_stream(down, client, chat_body(VALDEZ, uuid.uuid4().hex))
    assert streamed.error == {"type": "model_unavailable", "message": "the model server could not be reached"}
    assert streamed.done
    assert streamed.end is None
    assert streamed.deltas == []


def test_embeddings_float_and_base64(llm: OpenAI, stack: RunningStack) -> None:
    texts = ["Real GDP removes inflation.", "Real GDP removes the effect of inflation."]
    default = llm.embeddings.create(model="reference-embedding", input=texts)  # the client asks for base64
    floats = llm.embeddings.create(model="reference-embedding", input=texts, encoding_format="float")
    assert [d.index for d in floats.data] == [0, 1]
    assert len(floats.data[0].embedding) == 384
    assert floats.model == "all-MiniLM-L6-v2"  # the model that answered, not the name asked for
    for a, b in zip(default.data, floats.data, strict=True):
        assert a.embedding == pytest.approx(b.embedding, abs=1e-6)
    assert floats.usage.prompt_tokens > 0
    one = httpx.post(f"{stack.model_base_url}/embeddings", json={"model": "m", "input": texts[0], "dimensions": 64})
    assert one.status_code == 200
    assert len(one.json()["data"][0]["embedding"]) == 64
