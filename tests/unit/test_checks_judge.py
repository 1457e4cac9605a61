"""llm_judge against a tiny OpenAI-compatible grader served on loopback (deterministic grading)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request

from harness._verdict._checks import CheckSettings
from harness._verdict._checks._judge import parse_verdict
from harness.serving import ServerThread, bind, quiet_config

REPLY = "Mitochondria produce ATP through cellular respiration."


def _grader_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> dict[str, Any]:
        payload = await request.json()
        prompt = payload["messages"][-1]["content"]
        rubric = prompt.split("RUBRIC:\n", 1)[1].split("\n\nREQUEST:", 1)[0]
        output = prompt.split("OUTPUT:\n", 1)[1]
        if "answer in prose" in rubric:
            content = "I think it is quite good."
        else:
            # Grades "must mention X": full marks when X is in the output, 0.2 otherwise.
            word = re.search(r"must mention (\w+)", rubric)
            hit = word is not None and word.group(1).lower() in output.lower()
            reason = f"{'mentions' if hit else 'does not mention'} {word.group(1) if word else '?'}"
            content = f'```json\n{{"score": {1.0 if hit else 0.2}, "reason": "{reason} ({payload["model"]})"}}\n```'
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": payload["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    return app


@pytest.fixture(scope="module")
def grader_url() -> Iterator[str]:
    sock = bind()
    serving = ServerThread([(quiet_config(_grader_app(), lifespan="off"), sock)], name="grader")
    serving.start(10)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    serving.stop()


def _settings(url: str | None) -> CheckSettings:
    return CheckSettings(judge_base_url=url, judge_api_key="k", judge_model="grader-1")


def test_judge_passes_when_the_grader_scores_high(grader_url: str, check_on: Any, make_outcome: Any) -> None:
    arg = {"rubric": "The reply must mention ATP."}
    result = check_on("llm_judge", arg, make_outcome(REPLY), settings=_settings(grader_url))
    assert result.passed, result.message


def test_judge_fails_with_score_threshold_and_reason(grader_url: str, check_on: Any, make_outcome: Any) -> None:
    arg = {"rubric": "The reply must mention ribosomes.", "threshold": 0.5, "model": "strict-grader"}
    result = check_on("llm_judge", arg, make_outcome(REPLY), settings=_settings(grader_url))
    assert not result.passed
    assert result.message == (
        "score 0.20 below threshold 0.50 for rubric 'The reply must mention ribosomes.'; "
        "grader's reason: does not mention ribosomes (strict-grader)"
    )


def test_judge_reports_an_unusable_grader_reply(grader_url: str, check_on: Any, make_outcome: Any) -> None:
    arg = {"rubric": "answer in prose"}
    result = check_on("llm_judge", arg, make_outcome(REPLY), settings=_settings(grader_url))
    assert not result.passed
    assert 'the grader did not answer {"score", "reason"} JSON (no JSON object): «I think it is quite good.»' in (
        result.message
    )


def test_judge_without_configuration_is_skipped_saying_how_to_set_it(check_on: Any, make_outcome: Any) -> None:
    # Not the output's fault: the item is skipped with the fix, not failed (e.g. --base-url with no grader).
    result = check_on("llm_judge", {"rubric": "x"}, make_outcome(REPLY), settings=CheckSettings())
    assert (result.passed, result.skipped) == (True, True)
    assert result.message.startswith("llm_judge needs a grader: set --harness-judge-url")


def test_judge_unreachable_grader_is_a_clear_failure(check_on: Any, make_outcome: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    result = check_on("llm_judge", {"rubric": "x"}, make_outcome(REPLY), settings=_settings(closed))
    assert not result.passed
    assert result.message.startswith(f"could not reach the grader at {closed} (model grader-1)")


def test_judge_argument_is_validated(check_on: Any, make_outcome: Any) -> None:
    result = check_on("llm_judge", {"threshold": 0.5}, make_outcome(REPLY), settings=_settings("http://x"))
    assert "'rubric' is a required property" in result.message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"score": 0.8, "reason": "ok"}', (0.8, "ok")),
        ('Verdict: {"score": 1, "reason": "fine"} done', (1.0, "fine")),
    ],
)
def test_parse_verdict(content: str, expected: tuple[float, str]) -> None:
    assert parse_verdict(content) == expected


@pytest.mark.parametrize("content", ['{"score": "high"}', '{"score": 3}', "no json", '{"score": true}'])
def test_parse_verdict_rejects(content: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_verdict(content)
