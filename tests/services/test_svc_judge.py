"""The embedded model as a grader: deterministic {"score", "reason"} from a rubric, over real HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from openai import OpenAI

from harness._delivery._outcome import Outcome
from harness._verdict._checks import CheckContext, CheckSettings, run_check
from harness._verdict._checks._judge import GRADER_INSTRUCTIONS, grader_prompt
from reference_services import RunningStack

ANSWER = (
    "Happy to help with that. From the course materials:\n\n"
    "The difference between nominal GDP and real GDP is inflation: nominal GDP uses current prices, "
    "while real GDP uses base-year prices."
)
RUBRIC = 'Must mention "current prices", "base-year prices" and "inflation".'
REQUEST = {"course": "Macroeconomics 201", "message": "Nominal vs real GDP?"}


@pytest.fixture(scope="module")
def llm(stack: RunningStack) -> OpenAI:
    return OpenAI(base_url=stack.model_base_url, api_key="x", max_retries=0, timeout=10)


def grade(llm: OpenAI, rubric: str, output: str, **params: Any) -> dict[str, Any]:
    params = {"temperature": 0, **params}
    response = llm.chat.completions.create(
        model="reference-model",
        messages=[
            {"role": "system", "content": GRADER_INSTRUCTIONS},
            {"role": "user", "content": grader_prompt(rubric, REQUEST, output)},
        ],
        **params,
    )
    content = response.choices[0].message.content or ""
    verdict: dict[str, Any] = json.loads(content)  # a bare JSON object, no fences or prose
    return verdict


@pytest.mark.parametrize(
    ("rubric", "score", "reason"),
    [
        (RUBRIC, 1.0, "covers all 3 required points: 'current prices', 'base-year prices', 'inflation'"),
        (
            "The answer mentions unemployment, inflation and the CPI.",
            0.33,
            "misses 2 of 3 required points: 'unemployment', 'the CPI' (covers 'inflation')",
        ),
        (
            "A good answer covers:\n- current prices\n- chain-weighted index\n",
            0.5,
            "misses 1 of 2 required points: 'chain-weighted index' (covers 'current prices')",
        ),
        (
            "Must name 'purchasing power parity' and 'chain-weighted index'.",
            0.0,
            "misses 2 of 2 required points: 'purchasing power parity', 'chain-weighted index'",
        ),
    ],
    ids=["quoted", "listed", "bullets", "none-found"],
)
def test_grading_scores_the_share_of_required_points(llm: OpenAI, rubric: str, score: float, reason: str) -> None:
    assert grade(llm, rubric, ANSWER) == {"score": score, "reason": reason}


def test_points_match_by_stemmed_terms(llm: OpenAI) -> None:
    # "prices" / "price", "inflation's" / "inflation": the grader matches terms, not exact strings.
    verdict = grade(llm, 'Must mention "current price" and "inflation".', "Inflation's cause: current prices rose.")
    assert verdict["score"] == 1.0


def test_grading_is_deterministic_and_honours_response_format(llm: OpenAI) -> None:
    schema = {
        "name": "verdict",
        "schema": {
            "type": "object",
            "properties": {"score": {"type": "number"}, "reason": {"type": "string"}},
            "required": ["score", "reason"],
        },
    }
    plain = grade(llm, RUBRIC, ANSWER[:60])
    assert plain == grade(llm, RUBRIC, ANSWER[:60], temperature=1.5)  # no seed: chat would vary, grading not
    assert plain == grade(llm, RUBRIC, ANSWER[:60], response_format={"type": "json_object"})
    assert plain == grade(llm, RUBRIC, ANSWER[:60], response_format={"type": "json_schema", "json_schema": schema})
    assert plain["score"] == 0.0


def test_an_unknown_response_format_is_rejected(llm: OpenAI) -> None:
    import openai

    with pytest.raises(openai.UnprocessableEntityError):
        grade(llm, RUBRIC, ANSWER, response_format={"type": "yaml"})  # type: ignore[typeddict-item]


def test_an_output_quoting_the_end_marker_is_graded_whole(llm: OpenAI) -> None:
    # The output runs to the last <<<end>>>: text after an embedded marker still counts.
    verdict = grade(
        llm, RUBRIC, "nominal GDP uses current prices\n<<<end>>>\nreal GDP uses base-year prices, inflation"
    )
    assert verdict["score"] == 1.0


def test_grading_streams_the_same_json(llm: OpenAI) -> None:
    stream = llm.chat.completions.create(
        model="m",
        temperature=0,
        stream=True,
        messages=[{"role": "user", "content": grader_prompt(RUBRIC, REQUEST, ANSWER)}],
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert json.loads(text)["score"] == 1.0


def _judge(stack: RunningStack, rubric: str, threshold: float) -> tuple[bool, str]:
    ctx = CheckContext(
        case_id="c",
        endpoint="qa",
        outcome=Outcome(endpoint="qa", delivery="sync", status=200, text=ANSWER),
        input=REQUEST,
        settings=CheckSettings(judge_base_url=stack.model_base_url, judge_model="reference-model"),
    )
    result = asyncio.run(run_check("llm_judge", ctx, {"rubric": rubric, "threshold": threshold}))
    return result.passed, result.message


def test_llm_judge_check_against_the_embedded_model(stack: RunningStack) -> None:
    assert _judge(stack, RUBRIC, 0.7) == (True, "")
    passed, message = _judge(stack, "The answer mentions unemployment, inflation and the CPI.", 0.7)
    assert not passed
    assert message == (
        "score 0.33 below threshold 0.70 for rubric 'The answer mentions unemployment, inflation and "
        "the CPI.'; grader's reason: misses 2 of 3 required points: 'unemployment', 'the CPI' (covers 'inflation')"
    )
