"""The embedded reference model: a small, deterministic, OpenAI-compatible chat-completions and embeddings server."""

from __future__ import annotations

from reference_services.model.server import ModelSettings, create_model_app

__all__ = ["ModelSettings", "create_model_app"]
