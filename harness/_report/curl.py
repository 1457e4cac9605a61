"""A ready-to-run ``curl`` command reproducing a recorded request (secrets already masked in the record)."""

from __future__ import annotations

import json
import shlex
from typing import Any


def curl_command(request: dict[str, Any], *, stream: bool = False) -> str:
    """``curl`` for an ``Outcome.request`` record; ``stream`` adds ``-N`` so SSE shows as it arrives."""
    if not request:
        return ""
    parts = ["curl", "-sS"]
    if stream:
        parts.append("-N")
    parts += ["-X", str(request.get("method", "POST")), shlex.quote(str(request.get("url", "")))]
    for name, value in (request.get("headers") or {}).items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = request.get("body")
    if body is not None:
        raw = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        parts += ["--data-raw", shlex.quote(raw)]
    return " ".join(parts)
