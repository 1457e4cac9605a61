"""A LiteLLM custom provider whose stream breaks after two chunks: a failure mid-stream.

LiteLLM's own ``mock_response: "Exception: mock_streaming_error"`` raises before the first chunk; this
handler sends text first, then raises, which is what a backend dying mid-answer looks like.
Registered in config.yaml under ``litellm_settings.custom_provider_map`` as provider ``breaking``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import litellm
from litellm import CustomLLM
from litellm.types.utils import GenericStreamingChunk


class BreakingLLM(CustomLLM):
    def _chunks(self) -> Iterator[GenericStreamingChunk]:
        for text in ("Mitochondria ", "make "):
            yield {"text": text, "is_finished": False, "finish_reason": "", "usage": None, "index": 0}
        raise litellm.InternalServerError(
            message="fake backend went away mid-answer", llm_provider="breaking", model="breaking/fake"
        )

    def completion(self, *args: Any, **kwargs: Any) -> litellm.ModelResponse:
        raise litellm.InternalServerError(
            message="fake backend is down", llm_provider="breaking", model="breaking/fake"
        )

    async def acompletion(self, *args: Any, **kwargs: Any) -> litellm.ModelResponse:
        return self.completion()

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[GenericStreamingChunk]:
        yield from self._chunks()

    async def astreaming(self, *args: Any, **kwargs: Any) -> AsyncIterator[GenericStreamingChunk]:
        for chunk in self._chunks():
            yield chunk


breaking_llm = BreakingLLM()
