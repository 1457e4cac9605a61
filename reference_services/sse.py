"""Server-Sent Events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html)."""

from __future__ import annotations

import json
from typing import Any

MEDIA_TYPE = "text/event-stream; charset=utf-8"
DONE = "data: [DONE]\n\n"


def event(data: str, name: str | None = None) -> str:
    """One event; data containing newlines becomes several ``data:`` lines, as the spec requires."""
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    head = f"event: {name}\n" if name else ""
    return head + "".join(f"data: {line}\n" for line in lines) + "\n"


def json_event(payload: dict[str, Any], name: str) -> str:
    """A named event whose data is compact JSON."""
    return event(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), name)


def mojibake(text: str) -> str:
    """UTF-8 bytes wrongly decoded as cp1252 (latin-1 for bytes cp1252 leaves undefined): 'é' -> 'Ã©'."""
    out = []
    for byte in text.encode("utf-8"):
        try:
            out.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(byte))
    return "".join(out)
