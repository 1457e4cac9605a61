"""Small renderers that put specifics into messages: excerpts, first differences, clipped text, JSON paths.

Shared by the checks, parity and the reports, so a failure reads the same wherever it is shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def first_difference(a: str, b: str) -> int:
    """The offset of the first character where ``a`` and ``b`` differ (the shorter length if one is a prefix)."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def excerpt(
    text: str,
    start: int,
    end: int | None = None,
    *,
    width: int = 30,
    before: int | None = None,
    ellipses: bool = True,
    empty: str = "«»",
) -> str:
    """The text around ``text[start:end]`` as «...»: ``before`` (default ``width``) characters before, ``width`` after.

    Newlines show as ⏎; ``ellipses`` marks a cut at either end; ``empty`` is shown when nothing is left.
    """
    end = start if end is None else end
    lo = max(0, start - (width if before is None else before))
    hi = min(len(text), end + width)
    body = text[lo:hi].replace("\n", "⏎")
    if not body:
        return empty
    if ellipses:
        body = f"{ELLIPSIS if lo > 0 else ''}{body}{ELLIPSIS if hi < len(text) else ''}"
    return f"«{body}»"


def head(text: str, limit: int = 80) -> str:
    """The first ``limit`` characters of ``text`` as «...» (newlines shown as ⏎)."""
    return excerpt(text, 0, 0, width=limit) if text else "«» (empty)"


def short_repr(value: Any, limit: int = 160) -> str:
    """Compact JSON (or repr) of ``value``, cut at ``limit`` characters."""
    try:
        rendered = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        rendered = repr(value)
    return clip(rendered, limit)


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
