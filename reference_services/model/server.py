"""The OpenAI-compatible HTTP surface of the reference model.

``POST /v1/chat/completions`` (non-streaming, and ``stream: true`` as ``chat.completion.chunk`` events ending in
``data: [DONE]``, with ``finish_reason`` and ``usage``), ``POST /v1/embeddings`` (all-MiniLM-L6-v2, a learned
sentence model run in-process, see ``embeddings``) and ``GET /v1/models``. A grading request (the
``<<<grading-request>>>`` block, see ``reference_services.prompts``) is answered with a bare JSON object
``{"score", "reason"}`` computed from the rubric (``grading.grade``), which satisfies any ``response_format``
a grader asks for (``text``, ``json_object``, or a ``json_schema`` for that object). The reply is a pure function
of (seed, temperature, top_p, model, messages) when a seed is given or the temperature is 0; without a seed at
temperature > 0 the wording varies between calls while the substance stays the same. Latency is simulated
as a time to first token plus a per-token delay, for streaming and non-streaming calls alike.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from reference_services.model import embeddings
from reference_services.model.answers import answer_from_passages
from reference_services.model.exams import QuestionBank, render_exam, select_questions
from reference_services.model.grading import grade
from reference_services.prompts import parse_chat_system_message, parse_exam_request, parse_grading_request
from reference_services.settings import DEFAULT_MODEL_NAME, FIXTURES_DIR

_TOKEN = re.compile(r"\S+\s*|\s+")
UNKNOWN_PROMPT_REPLY = (
    "I am the reference model. I write exams from an exam request block, answer questions from course "
    "passages and grade outputs from a grading request block; this prompt has none of them."
)


class ModelSettings(BaseModel):
    """Configuration of the reference model server."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_name: str = DEFAULT_MODEL_NAME
    time_to_first_token_ms: float = Field(default=0.0, ge=0)
    per_token_delay_ms: float = Field(default=0.0, ge=0)
    question_bank_path: Path = FIXTURES_DIR / "question_bank.yaml"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | None = None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["text", "json_object", "json_schema"]


class ChatCompletionRequest(BaseModel):
    """The subset of the OpenAI request the model honours; other fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float = Field(default=1.0, ge=0, le=2)
    top_p: float = Field(default=1.0, gt=0, le=1)
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    response_format: ResponseFormat | None = None


class EmbeddingRequest(BaseModel):
    """The OpenAI embeddings request: text input only (token arrays are not supported)."""

    model_config = ConfigDict(extra="allow")

    model: str
    input: str | list[str] = Field(min_length=1)
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=8, le=4096)


def _rng_for(request: ChatCompletionRequest) -> tuple[random.Random, bool]:
    """The sampling rng and whether output may vary between identical calls."""
    if request.seed is None and request.temperature > 0:
        return random.Random(), True
    key = json.dumps(
        [request.seed, request.temperature, request.top_p, request.model, [m.model_dump() for m in request.messages]],
        sort_keys=True,
        ensure_ascii=False,
    )
    return random.Random(hashlib.sha256(key.encode()).digest()), False


def generate_reply(bank: QuestionBank, request: ChatCompletionRequest) -> str:
    """The full reply text for a request."""
    rng, vary = _rng_for(request)
    users = [m.content or "" for m in request.messages if m.role == "user"]
    last_user = users[-1] if users else ""
    grading = parse_grading_request(last_user)
    if grading is not None:
        return grade(grading).to_json()
    exam = parse_exam_request(last_user)
    if exam is not None:
        questions = select_questions(bank, exam.course_title, exam.course_topic, exam.num_questions, rng)
        return render_exam(questions, request.temperature, rng)
    system = next((m.content or "" for m in request.messages if m.role == "system"), "")
    chat = parse_chat_system_message(system)
    if chat is not None:
        course, passages = chat
        follow_up = any(m.role == "assistant" for m in request.messages)
        return answer_from_passages(course, last_user, passages, follow_up=follow_up, rng=rng, vary=vary)
    return UNKNOWN_PROMPT_REPLY


def _count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def create_model_app(settings: ModelSettings | None = None) -> FastAPI:
    """Build the reference model's FastAPI app."""
    settings = settings or ModelSettings()
    bank = QuestionBank.load(settings.question_bank_path)
    app = FastAPI(title="reference model", docs_url=None, redoc_url=None)
    app.state.model_settings = settings
    ttft = settings.time_to_first_token_ms / 1000
    per_token = settings.per_token_delay_ms / 1000

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": settings.model_name, "object": "model", "created": 0, "owned_by": "qa-harness"}],
        }

    @app.post("/v1/embeddings")
    async def create_embeddings(request: EmbeddingRequest) -> dict[str, Any]:
        texts = [request.input] if isinstance(request.input, str) else request.input
        # The model loads at the first request and runs for milliseconds per text: on a worker thread, so the
        # server's loop keeps streaming chat replies meanwhile.
        vectors = await asyncio.to_thread(embeddings.embed_texts, texts, request.dimensions)
        data: list[dict[str, Any]] = []
        for index, vector in enumerate(vectors):
            encoded: Any = embeddings.encode_base64(vector) if request.encoding_format == "base64" else vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(_count_tokens(text) for text in texts)
        return {
            "object": "list",
            "data": data,
            "model": embeddings.MODEL_NAME,  # the model that answered, whatever name was asked for (as OpenAI does)
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: ChatCompletionRequest) -> JSONResponse | StreamingResponse:
        text = generate_reply(bank, request)
        tokens = _TOKEN.findall(text)
        prompt_tokens = sum(_count_tokens(m.content or "") for m in request.messages)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(tokens),
            "total_tokens": prompt_tokens + len(tokens),
        }
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        model = request.model
        fingerprint = "fp_reference"

        if not request.stream:
            delay = ttft + per_token * max(len(tokens) - 1, 0)
            if delay:
                await asyncio.sleep(delay)
            return JSONResponse(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "system_fingerprint": fingerprint,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                            "logprobs": None,
                        }
                    ],
                    "usage": usage,
                }
            )

        include_usage = bool(request.stream_options and request.stream_options.include_usage)

        def chunk(delta: dict[str, Any], finish: Literal["stop"] | None, with_usage: bool = False) -> str:
            body: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": fingerprint,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            }
            if with_usage:
                body["choices"] = []
                body["usage"] = usage
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        async def events() -> AsyncIterator[str]:
            yield chunk({"role": "assistant", "content": ""}, None)
            for index, token in enumerate(tokens):
                delay = ttft if index == 0 else per_token
                if delay:
                    await asyncio.sleep(delay)
                yield chunk({"content": token}, None)
            yield chunk({}, "stop")
            if include_usage:
                yield chunk({}, None, with_usage=True)
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream; charset=utf-8")

    return app
