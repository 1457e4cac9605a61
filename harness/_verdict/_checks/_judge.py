"""``llm_judge``: a rubric graded by any OpenAI-compatible model through the ``openai`` client.

The grader gets the rubric, the request and the output, and must answer with JSON
``{"score": <0..1>, "reason": "..."}``. The check fails below the threshold, quoting the grader's reason.
Off unless a case names it; the grader is configured run-wide (``CheckSettings.judge_*``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from harness._errors import CheckFailed, CheckSkipped
from harness._report.excerpts import head, short_repr
from harness._run._imports import load_off_loop
from harness._verdict._checks._registry import CheckContext, check

GRADER_INSTRUCTIONS = (
    "You grade the output of another system against a rubric. "
    "Read the rubric, the request and the output. Reply with only a JSON object: "
    '{"score": <number from 0 to 1, 1 = fully meets the rubric>, "reason": "<one sentence>"}.'
)

_NOT_CONFIGURED = (
    "llm_judge needs a grader: set --harness-judge-url (an OpenAI-compatible base URL, e.g. "
    "https://api.openai.com/v1) and --harness-judge-model, plus HARNESS_JUDGE_API_KEY if the grader needs a key"
)


def grader_prompt(rubric: str, request: Any, output: str) -> str:
    """The user message sent to the grader.

    Plain sections a real grader reads, inside a ``<<<grading-request>>>`` block the embedded reference
    model parses (``reference_services.prompts.parse_grading_request``); the output runs to the last
    ``<<<end>>>``, so an output containing the marker cannot cut it short.
    """
    return (
        "Grade the OUTPUT against the RUBRIC.\n"
        "<<<grading-request>>>\n"
        f"RUBRIC:\n{rubric}\n\nREQUEST:\n{short_repr(request, 2000)}\n\nOUTPUT:\n{output}\n"
        "<<<end>>>"
    )


def parse_verdict(content: str) -> tuple[float, str]:
    """Score and reason from the grader's reply (tolerates prose or code fences around the JSON)."""
    match = re.search(r"\{.*\}", content, re.DOTALL)
    if match is None:
        raise ValueError("no JSON object")
    verdict = json.loads(match.group(0))
    score = verdict.get("score") if isinstance(verdict, dict) else None
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise ValueError("no numeric 'score'")
    if not 0 <= score <= 1:
        raise ValueError(f"score {score} outside 0..1")
    return float(score), str(verdict.get("reason", "")).strip()


@check(
    "llm_judge",
    arg_schema={
        "type": "object",
        "properties": {
            "rubric": {"type": "string", "minLength": 1},
            "threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.7},
            "model": {"type": "string"},
        },
        "required": ["rubric"],
        "additionalProperties": False,
    },
    imports=("openai",),
)
async def check_llm_judge(ctx: CheckContext, arg: Any) -> None:
    """A grader model scores the text against a rubric: {rubric, threshold (default 0.7), model}."""
    settings = ctx.settings
    model = arg.get("model") or settings.judge_model
    if not settings.judge_base_url or not model:
        raise CheckSkipped(_NOT_CONFIGURED)
    threshold = float(arg.get("threshold", 0.7))
    text = ctx.require_text()
    await load_off_loop("openai")  # lazy: a grader most runs never call, and never imported on the loop
    import openai

    client = openai.AsyncOpenAI(
        base_url=settings.judge_base_url,
        api_key=settings.judge_api_key or "not-needed",
        timeout=60.0,
        max_retries=1,
    )
    try:
        response = await client.chat.completions.create(
            model=model,
            temperature=0,
            messages=[
                {"role": "system", "content": GRADER_INSTRUCTIONS},
                {"role": "user", "content": grader_prompt(arg["rubric"], ctx.input, text)},
            ],
        )
    except openai.OpenAIError as exc:
        raise CheckFailed(
            f"could not reach the grader at {settings.judge_base_url} (model {model}): {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        await client.close()
    content = response.choices[0].message.content if response.choices else None
    try:
        score, reason = parse_verdict(content or "")
    except ValueError as exc:
        raise CheckFailed(
            f'the grader did not answer {{"score", "reason"}} JSON ({exc}): {head(content or "", 200)}'
        ) from exc
    if score < threshold:
        raise CheckFailed(
            f"score {score:.2f} below threshold {threshold:.2f} for rubric "
            f"{arg['rubric']!r}; grader's reason: {reason or '(none given)'}"
        )
