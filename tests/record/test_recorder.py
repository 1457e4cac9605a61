"""Exchanges to cases: every request accounted for, duplicates once, limits, and a valid file at every moment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from harness._delivery._outcome import Outcome
from harness._model._case import parse_case_file, resolve_cases
from harness._model._spec import ConversationSpec, ServiceSpec
from harness._record._exchange import Exchange
from harness._record._recorder import Recorder, RecordSettings

SPEC = ServiceSpec.model_validate(
    {
        "service": "chat",
        "qa": {"path": "/chat/qa", "delivery": "sync", "auth": "qa_token", "output": {"text": "/reply"}},
        "prod": {"path": "/chat/stream", "delivery": "sse"},
    }
)
TOKEN = "qa-token-0123456789"


def qa(body: Any, reply: str = "Hello there.", status: int = 200) -> Exchange:
    return Exchange(
        method="POST",
        path="/chat/qa",
        request_headers={"Authorization": f"Bearer {TOKEN}", "Cookie": "session=abc"},
        request_body=json.dumps(body).encode(),
        status=status,
        response_headers={"content-type": "application/json"},
        response_body=json.dumps({"reply": reply} if status == 200 else {"detail": "bad"}).encode(),
    )


def stream(body: Any, deltas: list[str]) -> Exchange:
    events = "".join(f"data: {d}\n\n" for d in deltas) + "event: end\ndata: {}\n\ndata: [DONE]\n\n"
    return Exchange(
        method="POST",
        path="/chat/stream",
        request_body=json.dumps(body).encode(),
        status=200,
        response_headers={"content-type": "text/event-stream; charset=utf-8"},
        response_body=events.encode(),
    )


def record_all(recorder: Recorder, *exchanges: Exchange) -> None:
    for exchange in exchanges:
        plan = recorder.plan(exchange)
        if plan is not None:
            recorder.record(plan)


def cases_of(path: Path) -> list[dict[str, Any]]:
    parsed, doc = parse_case_file(path, path.name)
    resolve_cases(parsed, doc, "chat")  # valid as a case file, checks and all
    return yaml.safe_load(path.read_text())["cases"]


def test_each_request_is_a_case_a_duplicate_input_is_recorded_once_and_the_rest_is_counted(tmp_path: Path) -> None:
    out = tmp_path / "recorded.yaml"
    recorder = Recorder(SPEC, RecordSettings(out=out))
    record_all(
        recorder,
        qa({"message": "hi"}, "Hello there."),
        qa({"message": "hi"}, "Hello again."),  # the same input: once
        stream({"message": "bye"}, ["Good", "bye."]),
        qa({"message": "??"}, status=422),
        Exchange(method="GET", path="/health", status=200),
        Exchange(method="POST", path="/chat/qa", request_body=b"{not json", status=422),
    )
    recorder.write()  # what the proxy does when it stops
    cases = cases_of(out)
    assert [c["input"] for c in cases] == [{"message": "hi"}, {"message": "bye"}, {"message": "??"}]
    assert cases[0]["golden"]["text"] == "Hello there."
    assert cases[0]["golden"]["endpoint"] == "qa"
    assert cases[1]["golden"]["text"] == "Goodbye."
    assert cases[1]["golden"]["endpoint"] == "prod"
    assert cases[2]["checks"] == [{"status": 422}]
    assert cases[2]["golden"]["status"] == 422
    tally = recorder.tally
    assert (tally.requests, tally.recorded, tally.duplicates) == (6, 3, 1)
    assert tally.unmapped == {"no endpoint of 'chat' at GET /health": 1, "qa request body is not JSON": 1}
    text = out.read_text()
    assert "not mappable (1): no endpoint of 'chat' at GET /health" in text
    assert TOKEN not in text
    assert "session=abc" not in text


def test_sampling_rate_and_case_limit(tmp_path: Path) -> None:
    limited = Recorder(SPEC, RecordSettings(out=tmp_path / "a.yaml", max_cases=2))
    record_all(limited, *(qa({"message": f"m{n}"}) for n in range(5)))
    assert len(cases_of(tmp_path / "a.yaml")) == 2
    assert limited.tally.over_limit == 3
    sampled = Recorder(SPEC, RecordSettings(out=tmp_path / "b.yaml", sample_rate=0.5, seed=7))
    record_all(sampled, *(qa({"message": f"m{n}"}) for n in range(40)))
    kept = len(cases_of(tmp_path / "b.yaml"))
    assert 5 < kept < 35
    assert kept + sampled.tally.sampled_out == 40


def test_bodies_over_the_bound_pass_unrecorded_and_are_counted(tmp_path: Path) -> None:
    recorder = Recorder(SPEC, RecordSettings(out=tmp_path / "c.yaml", max_body_bytes=64))
    record_all(recorder, qa({"message": "x" * 100}), qa({"message": "ok"}, "y" * 100))
    assert recorder.tally.recorded == 0
    assert sum(recorder.tally.unmapped.values()) == 2


def test_the_file_on_disk_is_complete_after_every_case(tmp_path: Path) -> None:
    out = tmp_path / "recorded.yaml"
    recorder = Recorder(SPEC, RecordSettings(out=out))
    recorder.write()
    assert yaml.safe_load(out.read_text()) == {"service": "chat", "cases": []}
    for n in range(3):
        record_all(recorder, qa({"message": f"m{n}"}))
        assert len(cases_of(out)) == n + 1  # what an interrupted recording leaves
    assert [p.name for p in tmp_path.iterdir()] == ["recorded.yaml"]  # no temporary file left behind


def test_the_conversation_id_does_not_make_an_input_new(tmp_path: Path) -> None:
    spec = SPEC.model_copy(update={"conversation": ConversationSpec(id_field="conversation_id")})
    recorder = Recorder(spec, RecordSettings(out=tmp_path / "d.yaml"))
    record_all(recorder, *(qa({"message": "hi", "conversation_id": f"c{n}"}) for n in range(3)))
    assert (recorder.tally.recorded, recorder.tally.duplicates) == (1, 2)


def test_a_sample_asks_again_in_a_new_conversation(tmp_path: Path) -> None:
    spec = SPEC.model_copy(update={"conversation": ConversationSpec(id_field="conversation_id")})
    recorder = Recorder(spec, RecordSettings(out=tmp_path / "e.yaml", samples=3))
    plan = recorder.plan(qa({"message": "hi", "conversation_id": "c1"}))
    assert plan is not None
    assert recorder.wants_samples(plan) == 2
    first, second = (json.loads(recorder.sample_body(plan)) for _ in range(2))
    assert first["message"] == second["message"] == "hi"
    assert len({first["conversation_id"], second["conversation_id"], "c1"}) == 3


def test_an_input_changed_by_scrubbing_takes_its_golden_output_from_answers_to_the_changed_input(
    tmp_path: Path,
) -> None:
    recorder = Recorder(SPEC, RecordSettings(out=tmp_path / "f.yaml", samples=3))
    plan = recorder.plan(qa({"message": "mail jo@corp.example"}, "Mailed jo@corp.example."))
    assert plan is not None
    assert plan.scrubbed
    sent = json.loads(recorder.sample_body(plan))["message"]
    assert sent == plan.input["message"]
    assert "jo@corp.example" not in sent
    answers = [Outcome("qa", "sync", 200, text=f"Mailed {sent.split()[-1]}.") for _ in range(2)]
    case = recorder.record(plan, answers)
    assert case["golden"]["samples"] == 2
    assert case["golden"]["text"] == answers[0].text
    alone = Recorder(SPEC, RecordSettings(out=tmp_path / "g.yaml"))
    lone_plan = alone.plan(qa({"message": "mail jo@corp.example"}))
    assert lone_plan is not None
    assert alone.record(lone_plan)["golden"]["level"] == "semantic"
