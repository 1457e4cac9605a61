"""Small renderers that put specifics into failure messages: excerpts, JSON paths, short reprs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def excerpt(text: str, start: int, end: int | None = None, *, width: int = 30) -> str:
    """The text around ``text[start:end]`` with ``width`` characters either side, as «...»."""
    end = start if end is None else end
    lo = max(0, start - width)
    hi = min(len(text), end + width)
    body = text[lo:hi].replace("\n", "⏎")
    return f"«{'…' if lo > 0 else ''}{body}{'…' if hi < len(text) else ''}»"


def head(text: str, limit: int = 80) -> str:
    """The first ``limit`` characters of ``text`` as «...» (newlines shown as ⏎)."""
    return excerpt(text, 0, 0, width=limit) if text else "«» (empty)"


def short_repr(value: Any, limit: int = 160) -> str:
    """Compact JSON (or repr) of ``value``, cut at ``limit`` characters."""
    try:
        rendered = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        rendered = repr(value)
    return rendered if len(rendered) <= limit else rendered[: limit - 1] + "…"


def json_path(path: Iterable[Any]) -> str:
    """Render a path of keys and indexes as ``$.a[0].b``."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def numbers(values: Iterable[int]) -> str:
    """``1, 2, 3`` for question numbers and the like."""
    return ", ".join(str(v) for v in values)


def limited(lines: list[str], limit: int = 10) -> str:
    """Join message lines, keeping the first ``limit`` and counting the rest."""
    shown = lines[:limit]
    if len(lines) > limit:
        shown.append(f"... and {len(lines) - limit} more")
    return "\n  ".join(shown)
