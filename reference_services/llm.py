"""The model call: the ``openai`` async client against any OpenAI-compatible base URL."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import openai
from openai import AsyncOpenAI


class ModelUnavailableError(Exception):
    """The model server could not be reached, timed out, or answered with an error."""

    type = "model_unavailable"


@dataclass(frozen=True)
class SamplingParams:
    """The sampling parameters of one call."""

    temperature: float
    top_p: float
    seed: int | None


@dataclass(frozen=True)
class Completion:
    """A finished completion."""

    text: str
    model: str


class ModelClient:
    """A thin wrapper that maps every client failure to ``ModelUnavailableError``."""

    def __init__(self, *, base_url: str, api_key: str, model: str, timeout_s: float) -> None:
        self.model = model
        self._client = AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0)

    async def aclose(self) -> None:
        await self._client.close()

    def _arguments(self, messages: list[dict[str, str]], params: SamplingParams) -> dict[str, Any]:
        """What every completion request sends: model, messages and the sampling parameters."""
        return {
            "model": self.model,
            "messages": messages,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": params.seed,
        }

    async def complete(self, messages: list[dict[str, str]], params: SamplingParams) -> Completion:
        """A non-streaming completion."""
        try:
            response = await self._client.chat.completions.create(**self._arguments(messages, params))
        except openai.OpenAIError as exc:
            raise ModelUnavailableError(_describe(exc)) from exc
        if not response.choices:
            raise ModelUnavailableError("the model returned no choices")
        return Completion(response.choices[0].message.content or "", response.model or self.model)

    async def stream(self, messages: list[dict[str, str]], params: SamplingParams) -> AsyncGenerator[str, None]:
        """Text deltas of a streaming completion."""
        try:
            stream = await self._client.chat.completions.create(**self._arguments(messages, params), stream=True)
            if not isinstance(stream, openai.AsyncStream):
                raise ModelUnavailableError("the model did not stream")
            async with stream:
                async for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content
        except openai.OpenAIError as exc:
            raise ModelUnavailableError(_describe(exc)) from exc


def _describe(exc: openai.OpenAIError) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "the model server timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "the model server could not be reached"
    if isinstance(exc, openai.APIStatusError):
        return f"the model server answered HTTP {exc.status_code}"
    return f"the model call failed: {type(exc).__name__}"
