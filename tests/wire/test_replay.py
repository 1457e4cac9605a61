"""The three presets against byte-exact transcripts of the real frameworks, replayed on loopback.

Each test sends what the harness would send for a preset and asserts what the adapter makes of the real
framework's answer: the text, the recorded metadata, and for every failure mode a named problem (never
a pass on partial text). The captures are described in tests/wire/README.md.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from harness._delivery import Request, get_adapter
from harness._delivery._outcome import Outcome
from harness._model._spec import ServiceSpec
from harness._run._request import build_body
from harness._verdict._parity import compare
from tests.support.replay_server import Capture, ReplayServer

OPENAI = ServiceSpec.model_validate({"service": "llm", "preset": "openai-chat"})
LANGSERVE = ServiceSpec.model_validate({"service": "tutor", "preset": {"langserve": "/chat"}})
BENTOML = ServiceSpec.model_validate(
    {
        "service": "answers",
        "preset": {"bentoml-task": {"api": "answer", "task": "answer_job"}},
        "output": {"text": "/text", "sources": "/sources", "metadata": {"model_version": "/model_version"}},
    }
)


def deliver(spec: ServiceSpec, endpoint: str, captures: list[str | Capture], case_input: Any = None) -> Outcome:
    """Replay ``captures`` and deliver the request the spec builds for the first capture's request."""
    loaded = [c if isinstance(c, Capture) else Capture.load(c) for c in captures]
    endpoint_spec = spec.endpoint(endpoint)
    if case_input is None:
        case_input = _captured_input(spec, endpoint, loaded[0])

    async def main(url: str) -> Outcome:
        async with httpx.AsyncClient() as client:
            request = Request(
                endpoint=endpoint,
                method=endpoint_spec.method,
                url=url + loaded[0].route[1],
                base_url=url,
                spec=endpoint_spec,
                json=build_body(endpoint_spec, case_input),
                timeout_s=10.0,
            )
            return await get_adapter(endpoint_spec.delivery).deliver(client, request)

    with ReplayServer(loaded) as server:
        outcome = asyncio.run(main(server.url))
    assert server.unmatched == [], f"the adapter asked for something never captured: {server.unmatched}"
    return outcome


def _captured_input(spec: ServiceSpec, endpoint: str, capture: Capture) -> Any:
    """The case input that makes the spec's body equal the captured request body (the preset's inverse)."""
    body = json.loads(capture.meta["request"]["body"])
    if spec.endpoint(endpoint).body == {"input": "$input"}:
        return body["input"]
    return {k: v for k, v in body.items() if k not in ("stream", "stream_options")}


def kinds(outcome: Outcome) -> list[str]:
    return [p.kind for p in outcome.problems]


# ---------------------------------------------------------------- openai-chat (LiteLLM proxy)


def test_openai_preset_builds_the_captured_bodies() -> None:
    captured = json.loads(Capture.load("openai_chat_stream_usage").meta["request"]["body"])
    case_input = {"model": captured["model"], "messages": captured["messages"]}
    assert build_body(OPENAI.prod, case_input) == captured
    assert build_body(OPENAI.qa, case_input) == {**case_input, "stream": False}


def test_openai_sync_records_text_finish_reason_and_usage() -> None:
    outcome = deliver(OPENAI, "qa", ["openai_chat_ok"])
    assert kinds(outcome) == []
    assert outcome.text == "Mitochondria make ATP, the cell's energy currency. Café au lait.\nThe end."
    assert outcome.metadata["finish_reason"] == "stop"
    assert outcome.metadata["usage"]["total_tokens"] == 30


def test_openai_stream_with_usage_matches_the_plain_reply() -> None:
    qa = deliver(OPENAI, "qa", ["openai_chat_ok"])
    prod = deliver(OPENAI, "prod", ["openai_chat_stream_usage"])
    assert kinds(prod) == []
    assert prod.text == qa.text
    assert prod.metadata["finish_reason"] == "stop"  # from the chunk before the usage chunk
    assert prod.metadata["usage"]["completion_tokens"] == 20
    assert prod.timings.ttft_s is not None
    assert compare("exact", qa, prod).passed


def test_openai_stream_without_usage_still_ends_cleanly() -> None:
    prod = deliver(OPENAI, "prod", ["openai_chat_stream_ok"])
    assert kinds(prod) == []
    assert prod.text is not None
    assert prod.text.endswith("The end.")
    assert prod.metadata["usage"] is None


def test_openai_in_band_error_chunk_is_a_named_problem_not_partial_text() -> None:
    outcome = deliver(OPENAI, "prod", ["openai_chat_stream_midstream_error"])
    assert kinds(outcome) == ["stream_error_chunk"]
    assert "fake backend went away mid-answer" in outcome.problems[0].message
    assert outcome.text == "Mitochondria make "  # what arrived is kept for the report, and judged failed


def test_openai_error_before_the_stream_is_the_error_response() -> None:
    outcome = deliver(OPENAI, "prod", ["openai_chat_stream_error_at_start"])
    assert (outcome.status, kinds(outcome)) == (529, [])
    assert outcome.body["error"]["code"] == "529"
    assert outcome.text is None


def test_openai_validation_errors_have_parity() -> None:
    qa = deliver(OPENAI, "qa", ["openai_chat_missing_messages"])
    prod = deliver(OPENAI, "prod", ["openai_chat_stream_missing_messages"])
    assert (qa.status, prod.status) == (400, 400)
    assert compare("structural", qa, prod).passed


# ---------------------------------------------------------------- {langserve: /chat}


def test_langserve_stream_decodes_json_string_deltas_like_invoke() -> None:
    qa = deliver(LANGSERVE, "qa", ["langserve_invoke_ok"])
    prod = deliver(LANGSERVE, "prod", ["langserve_stream_ok"])
    assert kinds(qa) == kinds(prod) == []
    assert prod.text == qa.text == "Le café\n\nest prêt. Mitochondria make ATP."
    assert prod.body == {"run_id": prod.body["run_id"]}  # the metadata event; end has no data
    assert compare("exact", qa, prod).passed


def test_langserve_error_event_then_dropped_connection_is_a_named_problem() -> None:
    outcome = deliver(LANGSERVE, "prod", [_route(Capture.load("langserve_stream_error"), "/chat/stream")])
    assert kinds(outcome) == ["stream_error_event"]
    assert "Internal Server Error" in outcome.problems[0].message


def test_langserve_error_before_any_chunk_is_a_named_problem() -> None:
    outcome = deliver(LANGSERVE, "prod", [_route(Capture.load("langserve_stream_error_early"), "/chat/stream")])
    assert kinds(outcome) == ["stream_error_event"]
    assert outcome.text == ""


def test_langserve_stream_cut_before_its_end_event_is_a_named_problem() -> None:
    ok = Capture.load("langserve_stream_ok")
    cut = Capture(ok.name, {**ok.meta, "complete": False}, ok.body[: ok.body.rindex(b"event: end")])
    outcome = deliver(LANGSERVE, "prod", [cut])
    assert kinds(outcome) == ["stream_interrupted"]
    closed = Capture(ok.name, ok.meta, cut.body)  # the same bytes, but the body ended cleanly
    assert kinds(deliver(LANGSERVE, "prod", [closed])) == ["stream_no_terminator"]


def test_langserve_validation_error_on_stream_is_json_before_any_sse() -> None:
    qa = deliver(LANGSERVE, "qa", ["langserve_invoke_bad_input"])
    prod = deliver(LANGSERVE, "prod", ["langserve_stream_bad_input"])
    assert (qa.status, prod.status, kinds(prod)) == (422, 422, [])
    assert compare("structural", qa, prod).passed


def _route(capture: Capture, path: str) -> Capture:
    """The capture answered at another path (the broken chain was served at /broken)."""
    request = {**capture.meta["request"], "path": path}
    return Capture(capture.name, {**capture.meta, "request": request}, capture.body)


# ---------------------------------------------------------------- {bentoml-task: {api, task}}

OK_JOB = ["bentoml_task_ok_1_submit", "bentoml_task_ok_2_status_in_progress", "bentoml_task_ok_4_status_completed"]


def test_bentoml_job_is_submitted_polled_and_fetched() -> None:
    qa = deliver(BENTOML, "qa", ["bentoml_api_ok"])
    prod = deliver(BENTOML, "prod", [*OK_JOB, "bentoml_task_ok_5_get"])
    assert kinds(prod) == []
    assert (prod.status, prod.text, prod.sources) == (200, qa.text, ["biology/cells.md"])
    assert prod.metadata == qa.metadata == {"model_version": "fake-1"}
    polls = [httpx.URL(line.split()[-1]) for line in prod.transcript if line.startswith("> GET")]
    task_id = Capture.load("bentoml_task_ok_1_submit").json()["task_id"]
    assert [url.path for url in polls] == ["/answer_job/status", "/answer_job/status", "/answer_job/get"]
    assert all(url.params["task_id"] == task_id for url in polls)  # every poll is in the transcript
    assert compare("exact", qa, prod).passed


def test_bentoml_result_not_ready_is_asked_again_not_a_failure() -> None:
    spec = ServiceSpec.model_validate(
        {**BENTOML.model_dump(exclude_defaults=True), "prod": {"poll": {"result": {"not_ready": [400]}}}}
    )
    early = [*OK_JOB, "bentoml_task_ok_3_get_too_early", "bentoml_task_ok_5_get"]
    prod = deliver(spec, "prod", early)
    assert (prod.status, kinds(prod)) == (200, [])
    assert prod.text is not None
    assert "ATP" in prod.text
    assert sum("/answer_job/get" in line for line in prod.transcript if line.startswith(">")) == 2


def test_bentoml_failed_job_is_the_outcome_with_its_error_body() -> None:
    job = ["bentoml_task_failed_1_submit", "bentoml_task_failed_2_status_failed", "bentoml_task_failed_3_get"]
    prod = deliver(BENTOML, "prod", job)
    # Named in the job's own words; a case that expects the error takes it as its answer (the runner's part).
    assert (prod.status, kinds(prod), prod.text) == (500, ["job_failed"], None)
    assert "ended with status 'failed' at /status" in prod.problems[0].message
    assert 'its result answered 500: {"error": "An unexpected error has occurred' in prod.problems[0].message
    qa = deliver(BENTOML, "qa", ["bentoml_api_error"])
    assert compare("structural", qa, prod).passed


def test_bentoml_submit_accepting_bad_input_fails_like_the_api() -> None:
    job = ["bentoml_task_bad_input_1_submit", "bentoml_task_bad_input_2_status_failed", "bentoml_task_bad_input_3_get"]
    prod = deliver(BENTOML, "prod", job)
    qa = deliver(BENTOML, "qa", ["bentoml_api_bad_input"])
    assert (qa.status, prod.status, kinds(prod)) == (400, 400, ["job_failed"])
    assert prod.body == qa.body
    assert compare("structural", qa, prod).passed


def test_bentoml_unknown_job_on_status_is_a_named_problem() -> None:
    submit = Capture.load("bentoml_task_ok_1_submit")
    unknown = Capture.load("bentoml_task_status_unknown_id")
    task_id = submit.json()["task_id"]
    unknown.meta["request"]["path"] = f"/answer_job/status?task_id={task_id}"
    prod = deliver(BENTOML, "prod", [submit, unknown])
    assert kinds(prod) == ["poll_status_failed"]
    assert "404" in prod.problems[0].message


# ---------------------------------------------------------------- hand-made: not SSE at all


@pytest.mark.parametrize(
    "body",
    [b'{"error": "upstream timeout"}', b"<html><body>502 Bad Gateway</body></html>\n"],
    ids=["json", "html"],
)
def test_event_stream_label_on_a_body_that_is_not_sse_is_a_named_problem(body: bytes) -> None:
    capture = Capture.made("v1/chat/completions", body, content_type="text/event-stream")
    outcome = deliver(OPENAI, "prod", [capture], case_input={"model": "m", "messages": []})
    assert kinds(outcome) == ["stream_not_sse"]
    assert body.decode()[:20] in outcome.problems[0].message
