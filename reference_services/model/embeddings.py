"""Deterministic text embeddings for ``POST /v1/embeddings``: a stand-in, not a learned model.

Each text becomes a fixed-dimension vector of hashed features: its content words (stemmed, stopwords
dropped, as retrieval does) and the character trigrams of those words, each feature hashed (blake2b) to
a dimension and a sign, then L2-normalised. Texts that share content words and word forms land close
(``"prices rose"`` / ``"the price rises"``), reordering costs nothing and missing content costs a lot; it
knows no synonyms. It lets semantic parity run offline, deterministically, through the same
OpenAI-compatible ``/v1/embeddings`` call a real embedding model answers.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Iterator

from reference_services.terms import content_terms

DIMENSIONS = 256
_WORD_WEIGHT = 1.0
_TRIGRAM_WEIGHT = 0.35  # word forms ("price"/"prices") share most trigrams; whole words still dominate


def _features(text: str) -> Iterator[tuple[str, float]]:
    for word in content_terms(text):
        yield "w:" + word, _WORD_WEIGHT
        padded = f"#{word}#"
        for i in range(len(padded) - 2):
            yield "c:" + padded[i : i + 3], _TRIGRAM_WEIGHT


def embed(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    """The unit-length embedding of ``text`` (all zeros for a text without content words)."""
    vector = [0.0] * dimensions
    for feature, weight in _features(text):
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dimensions
        sign = 1.0 if digest[4] & 1 else -1.0
        vector[index] += sign * weight
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector] if norm else vector


def encode_base64(vector: list[float]) -> str:
    """``encoding_format: base64``: little-endian float32s, base64-encoded (what the openai client decodes)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
