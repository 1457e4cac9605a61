"""Semantic similarity: the cosine of sentence embeddings, from an embedder or from the model in this process.

``semantic`` parity embeds the texts it compares (all of a case's samples at once) and takes the cosine of their
vectors. The embedder is run-wide (``CheckSettings.embeddings_*``): an OpenAI-compatible ``/v1/embeddings``
endpoint asked through the ``openai`` client (``--harness-embeddings-url``, or the embedded reference model
in-process, which answers with the same learned model), else ``LocalEmbedder``: all-MiniLM-L6-v2 run here
(``harness._verdict._minilm``), as with ``--base-url`` and no embedder. Either way the report names the model.
Remote calls run on the runner's loop, bounded by ``timeout_s``; the local model runs on a worker thread.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass

from harness._delivery._outcome import Outcome
from harness._errors import HarnessError
from harness._run._imports import load_off_loop
from harness._verdict import _minilm  # light: it imports numpy, onnxruntime and tokenizers at first use
from harness._verdict._checks import CheckSettings
from harness._verdict._facts import swapped_words
from harness._verdict._parity import comparable_text
from harness._verdict._similarity import TextSimilarity

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MODEL = "reference-embedding"


class EmbeddingError(HarnessError):
    """The embedder could not be reached or answered something that is not one vector per text."""


@dataclass(frozen=True)
class EmbeddingSimilarity:
    """Cosine similarity (clipped to [0, 1]) between texts embedded beforehand."""

    vectors: dict[str, list[float]]
    model: str

    @property
    def name(self) -> str:
        """How parity reports name this judge."""
        return f"embeddings: {self.model}"

    def __call__(self, a: str, b: str) -> float:
        # An empty text has no embedding (OpenAI rejects empty input): like the lexical measure, two empty
        # texts are the same and an empty text is like nothing else.
        if not a.strip() or not b.strip():
            return 1.0 if not a.strip() and not b.strip() else 0.0
        return max(0.0, min(1.0, cosine(self.vectors[a], self.vectors[b])))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """The cosine of two vectors; 0.0 when either is all zeros."""
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


@dataclass(frozen=True)
class Embedder:
    """An OpenAI-compatible embeddings endpoint and the model to ask for."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_settings(cls, settings: CheckSettings) -> Embedder | LocalEmbedder:
        """The run's embedder: the configured endpoint, else the learned model in this process."""
        if not settings.embeddings_base_url:
            return LocalEmbedder()
        model = settings.embeddings_model or DEFAULT_MODEL
        return cls(settings.embeddings_base_url, model, settings.embeddings_api_key)

    async def similarity(self, texts: Sequence[str]) -> EmbeddingSimilarity:
        """Embed ``texts`` in one call; the result compares any two of them. Raises ``EmbeddingError``."""
        await load_off_loop("openai")  # lazy: the plugin stays cheap to import; never imported on the loop
        import openai

        unique = await asyncio.to_thread(_to_embed, texts)  # the word swaps are CPU work: off the loop
        if not unique:
            return EmbeddingSimilarity({}, self.model)
        client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=self.api_key or "not-needed", timeout=self.timeout_s, max_retries=1
        )
        where = f"the embedder at {self.base_url} (model {self.model})"
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await client.embeddings.create(model=self.model, input=unique, encoding_format="float")
        except TimeoutError:
            raise EmbeddingError(f"{where} did not answer within {self.timeout_s:g} s") from None
        except openai.OpenAIError as exc:
            raise EmbeddingError(f"could not get embeddings from {where}: {type(exc).__name__}: {exc}") from None
        finally:
            await client.close()
        data = sorted(response.data, key=lambda d: d.index)
        if len(data) != len(unique) or not all(isinstance(d.embedding, list) and d.embedding for d in data):
            raise EmbeddingError(f"{where} returned {len(data)} embeddings for {len(unique)} texts")
        # Name the model that answered (the embedded reference model answers with all-MiniLM-L6-v2 whatever
        # name it is asked for); a server that leaves the field out is named by the model asked for.
        served = response.model if isinstance(response.model, str) and response.model else self.model
        return EmbeddingSimilarity({text: list(d.embedding) for text, d in zip(unique, data, strict=True)}, served)


@dataclass(frozen=True)
class LocalEmbedder:
    """all-MiniLM-L6-v2 in this process (``harness._verdict._minilm``): ``semantic`` parity with no embedder."""

    async def similarity(self, texts: Sequence[str]) -> EmbeddingSimilarity:
        """Embed ``texts`` on a worker thread (the first call loads the model). Raises ``EmbeddingError``."""
        unique = await asyncio.to_thread(_to_embed, texts)  # the word swaps are CPU work: off the loop
        if not unique:
            return EmbeddingSimilarity({}, _minilm.MODEL_NAME)
        try:
            vectors = await _minilm.embed_off_loop(unique)
        except _minilm.ModelUnavailable as exc:
            raise EmbeddingError(str(exc)) from None
        return EmbeddingSimilarity(dict(zip(unique, vectors, strict=True)), _minilm.MODEL_NAME)


def _to_embed(texts: Sequence[str]) -> list[str]:
    """The texts, once each, and the words one swapped for another between any two (``_facts.word_swaps``), which
    the fact check judges by the same embeddings."""
    unique = list(dict.fromkeys(t for t in texts if t.strip()))
    answers = [t for t in unique if not t.lstrip().startswith(("{", "["))]  # a JSON body has no facts compared
    return [*unique, *(w for w in swapped_words(answers) if w not in unique)]


def wants_embeddings(level: str, noise_aware: bool) -> bool:
    """Whether parity at ``level`` compares texts by embeddings (else by the lexical measure)."""
    return level != "lexical" if noise_aware else level == "semantic"


async def parity_similarity(
    settings: CheckSettings, level: str, noise_aware: bool, outcomes: Sequence[Outcome]
) -> TextSimilarity | None:
    """The similarity a case's parity uses on ``outcomes``: their embeddings (the run's embedder, else the local
    model) when ``level`` is ``semantic`` (noise-aware: any level but ``lexical``), else None (lexical)."""
    if not wants_embeddings(level, noise_aware) or not all(o.succeeded for o in outcomes):
        return None  # error parity (a side failed) compares statuses and shapes, not texts
    return await Embedder.from_settings(settings).similarity([comparable_text(o) for o in outcomes])
