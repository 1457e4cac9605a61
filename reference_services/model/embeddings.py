"""Text embeddings for ``POST /v1/embeddings``: a learned sentence model, all-MiniLM-L6-v2, run in this process.

The same model ``semantic`` parity runs locally when no embedder is configured (``harness._verdict._minilm``:
int8 ONNX weights from a package, onnxruntime on the CPU, loaded once per process at the first request). Texts
in other words with the same meaning land close ("the car is fast" / "the automobile is quick": 0.86); a
sentence that keeps the words but changes a number or adds a "not" lands close too, as with any embedding model.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Sequence

from harness._verdict._minilm import DIMENSIONS, MODEL_NAME, embed

__all__ = ["DIMENSIONS", "MODEL_NAME", "embed_texts", "encode_base64"]


def embed_texts(texts: Sequence[str], dimensions: int | None = None) -> list[list[float]]:
    """Unit-length embeddings of ``texts``; ``dimensions`` below 384 keeps the first ones, renormalised (as
    OpenAI's ``dimensions`` shortens a vector; this model was not trained for it, so the cosines drift)."""
    vectors = embed(texts)
    if dimensions is None or dimensions >= DIMENSIONS:
        return vectors
    shortened = []
    for vector in vectors:
        head = vector[:dimensions]
        norm = sum(v * v for v in head) ** 0.5
        shortened.append([v / norm for v in head] if norm else head)
    return shortened


def encode_base64(vector: list[float]) -> str:
    """``encoding_format: base64``: little-endian float32s, base64-encoded (what the openai client decodes)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
