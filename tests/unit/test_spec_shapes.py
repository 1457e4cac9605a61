"""Service specs: presets, request templates, env headers, and the errors a spec that cannot work gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness._errors import CaseFileError
from harness._model._presets import expand_preset
from harness._model._spec import ConversationSpec, EndpointSpec, ServiceSpec, parse_service_spec
from harness._run._conversation import Conversation
from harness._run._request import build_body


def parse(tmp_path: Path, text: str) -> ServiceSpec:
    path = tmp_path / "service.yaml"
    path.write_text(text, encoding="utf-8")
    return parse_service_spec(path, "cases/x/service.yaml")


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(CaseFileError) as info:
        parse(tmp_path, text)
    return str(info.value)


# ---------------------------------------------------------------- presets


def test_openai_chat_preset_is_one_url_with_stream_on_one_side(tmp_path: Path) -> None:
    spec = parse(tmp_path, "service: llm\npreset: openai-chat\n")
    assert (spec.qa.path, spec.prod.path) == ("/v1/chat/completions", "/v1/chat/completions")
    assert (spec.qa.delivery, spec.prod.delivery) == ("sync", "sse")
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    assert build_body(spec.qa, body) == {**body, "stream": False}
    assert build_body(spec.prod, body) == {**body, "stream": True, "stream_options": {"include_usage": True}}
    assert spec.prod.sse.text == "/choices/0/delta/content"
    assert spec.conversation == ConversationSpec(messages="/messages")


def test_langserve_preset_wraps_the_input(tmp_path: Path) -> None:
    spec = parse(tmp_path, "service: tutor\npreset: {langserve: /chat}\n")
    assert (spec.qa.path, spec.prod.path) == ("/chat/invoke", "/chat/stream")
    assert build_body(spec.prod, {"question": "q", "n": 3}) == {"input": {"question": "q", "n": 3}}
    assert (spec.prod.sse.delta_event, spec.prod.sse.delta, spec.prod.sse.terminator) == ("data", "json_string", None)


def test_bentoml_task_preset_with_service_level_output(tmp_path: Path) -> None:
    spec = parse(
        tmp_path,
        "service: answers\npreset: {bentoml-task: {api: answer, task: answer_job}}\n"
        "output: {text: /text, sources: /sources}\n",
    )
    assert (spec.qa.path, spec.prod.path, spec.prod.delivery) == ("/answer", "/answer_job/submit", "poll")
    assert spec.prod.poll is not None
    assert spec.prod.poll.status.path == "/answer_job/status"
    assert spec.prod.poll.result is not None
    assert spec.prod.poll.result.path == "/answer_job/get"
    assert spec.qa.output.text == spec.prod.output.text == "/text"
    assert spec.qa.output.sources == spec.prod.output.sources == "/sources"


def test_the_spec_wins_over_the_preset_key_by_key(tmp_path: Path) -> None:
    spec = parse(
        tmp_path,
        "service: llm\npreset: openai-chat\n"
        "output: {metadata: {fingerprint: /system_fingerprint}}\n"
        "prod: {path: /openai/v1/chat/completions, sse: {terminator: null}}\n",
    )
    assert spec.prod.path == "/openai/v1/chat/completions"
    assert spec.prod.sse.terminator is None
    assert spec.prod.sse.text == "/choices/0/delta/content"  # the preset's, kept
    assert spec.qa.output.metadata["fingerprint"] == "/system_fingerprint"
    assert spec.qa.output.metadata["finish_reason"] == "/choices/0/finish_reason"


def test_service_level_headers_apply_to_both_endpoints_an_endpoints_own_win() -> None:
    spec = ServiceSpec.model_validate(
        {
            "service": "s",
            "headers": {"X-Team": "qa", "X-Env": "staging"},
            "qa": {"path": "/q", "delivery": "sync", "headers": {"X-Env": "qa-only"}},
            "prod": {"path": "/p", "delivery": "sync"},
        }
    )
    assert spec.qa.headers == {"X-Team": "qa", "X-Env": "qa-only"}
    assert spec.prod.headers == {"X-Team": "qa", "X-Env": "staging"}


@pytest.mark.parametrize(
    ("preset", "fragment"),
    [
        ("openai", "unknown preset 'openai': use one of bentoml-task, langserve, openai-chat"),
        ({"openai-chat": "/v1"}, "openai-chat takes no argument"),
        ("langserve", "needs an argument"),
        ({"langserve": "chat"}, "langserve takes the route's path"),
        ({"bentoml-task": {"api": "answer"}}, "bentoml-task takes {api: NAME, task: NAME}"),
    ],
)
def test_unknown_preset_or_argument_names_the_fix(preset: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=r"preset|takes") as info:
        expand_preset(preset)
    assert fragment in str(info.value)


def test_unknown_preset_stops_collection_at_its_line(tmp_path: Path) -> None:
    message = error(tmp_path, "service: llm\n\npreset: openai\n")
    assert message.startswith("cases/x/service.yaml:3: invalid service spec: preset: unknown preset 'openai'")
    assert "openai-chat" in message


# ---------------------------------------------------------------- errors at collection


def test_pointer_without_leading_slash_names_the_fix(tmp_path: Path) -> None:
    message = error(
        tmp_path,
        "service: s\nqa: {path: /q, delivery: sync}\nprod:\n  path: /p\n  delivery: sync\n"
        "  output: {text: choices/0/text}\n",
    )
    assert "cases/x/service.yaml:6:" in message
    assert "try '/choices/0/text'" in message


def test_poll_without_status_pointer(tmp_path: Path) -> None:
    message = error(
        tmp_path,
        "service: s\nqa: {path: /q, delivery: sync}\nprod:\n  path: /submit\n  delivery: poll\n  poll:\n"
        "    job_id: /id\n    status: {path: '/jobs/{id}', success: [done]}\n",
    )
    assert "cases/x/service.yaml:8:" in message
    assert "missing required key 'pointer' at prod.poll.status" in message


def test_poll_without_poll_section(tmp_path: Path) -> None:
    message = error(tmp_path, "service: s\nqa: {path: /q, delivery: sync}\nprod: {path: /submit, delivery: poll}\n")
    assert "cases/x/service.yaml:3:" in message
    assert "delivery: poll needs 'poll'" in message


def test_poll_job_id_placed_nowhere(tmp_path: Path) -> None:
    message = error(
        tmp_path,
        "service: s\nqa: {path: /q, delivery: sync}\nprod:\n  path: /submit\n  delivery: poll\n  poll:\n"
        "    job_id: /id\n    status: {path: /jobs, pointer: /state, success: [done]}\n",
    )
    assert "the job id goes nowhere in '/jobs'" in message


def test_body_template_that_places_the_input_nowhere(tmp_path: Path) -> None:
    message = error(
        tmp_path, "service: s\nqa: {path: /q, delivery: sync, body: {input: {}}}\nprod: {path: /p, delivery: sync}\n"
    )
    assert "cases/x/service.yaml:2:" in message
    assert "places the case input nowhere: write '$input'" in message


def test_json_deltas_need_a_text_pointer(tmp_path: Path) -> None:
    message = error(
        tmp_path, "service: s\nqa: {path: /q, delivery: sync}\nprod: {path: /p, delivery: sse, sse: {delta: json}}\n"
    )
    assert "delta: json needs 'text'" in message


def test_missing_environment_variable_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_API_KEY", raising=False)
    message = error(tmp_path, 'service: llm\npreset: openai-chat\nheaders: {Authorization: "Bearer ${LLM_API_KEY}"}\n')
    assert message.startswith(
        "cases/x/service.yaml:3: headers.Authorization reads the environment variable LLM_API_KEY"
    )
    assert "export LLM_API_KEY=" in message
    monkeypatch.setenv("LLM_API_KEY", "sk-1")
    assert parse(tmp_path, 'service: llm\npreset: openai-chat\nheaders: {Authorization: "Bearer ${LLM_API_KEY}"}\n')


# ---------------------------------------------------------------- request bodies and conversations


def test_body_template_keeps_json_types_and_set_adds_fields() -> None:
    spec = EndpointSpec.model_validate(
        {
            "path": "/p",
            "delivery": "sync",
            "body": {"input": "$input", "config": {"n": 2}},
            "set": {"/config/stream": True},
        }
    )
    assert build_body(spec, [1, {"a": None}]) == {"input": [1, {"a": None}], "config": {"n": 2, "stream": True}}


def test_messages_conversation_grows_with_each_endpoints_own_replies() -> None:
    base = {"model": "m", "messages": [{"role": "system", "content": "S"}]}
    qa, prod = (
        Conversation(ConversationSpec(messages="/messages"), "a"),
        Conversation(ConversationSpec(messages="/messages"), "b"),
    )
    turn1 = {"messages": [{"role": "user", "content": "U1"}]}
    turn2 = {"messages": [{"role": "user", "content": "U2"}]}
    assert qa.place(dict(base), turn1)["messages"] == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "U1"},
    ]
    prod.place(dict(base), turn1)
    qa.answered("qa reply")
    prod.answered("prod reply")
    sent = qa.place(dict(base), turn2)["messages"]
    assert [m["content"] for m in sent] == ["S", "U1", "qa reply", "U2"]
    assert [m["content"] for m in prod.place(dict(base), turn2)["messages"]] == ["S", "U1", "prod reply", "U2"]
    assert base["messages"] == [{"role": "system", "content": "S"}]  # the case's own input is never changed


def test_id_field_conversation_is_unchanged() -> None:
    conversation = Conversation(ConversationSpec(id_field="conversation_id"), "run-1-qa")
    placed = conversation.place({"conversation_id": "x", "message": "hi"}, None)
    assert placed == {"conversation_id": "run-1-qa", "message": "hi"}


def test_every_spec_example_in_the_docs_is_valid() -> None:
    import yaml

    from tests.support.docs import code_blocks

    pages = ("how-to/own-service.md", "how-to/delivery-modes.md", "reference/presets.md")
    blocks = [yaml.safe_load(block) for page in pages for block in code_blocks(page, "yaml")]
    specs = [b for b in blocks if isinstance(b, dict) and "cases" not in b and ({"service", "prod"} & set(b))]
    for spec in specs:
        full = spec if "service" in spec else {"service": "s", "qa": {"path": "/q", "delivery": "sync"}, **spec}
        ServiceSpec.model_validate(full)
    assert len(specs) == 11
