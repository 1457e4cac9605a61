"""JSON pointers (RFC 6901), read tolerantly: a pointer that finds nothing yields ``None``.

Service specs point at the output text, sources and metadata inside a result body. A body that lacks the
value is the service's problem, reported by checks ("no text at /text"), so lookup never raises for a
missing value. A pointer that is not a pointer at all (``text`` instead of ``/text``) is the spec
author's mistake and raises ``ValueError`` naming the fix.
"""

from __future__ import annotations

from typing import Any

__all__ = ["parse_pointer", "resolve_pointer", "set_pointer"]


def parse_pointer(pointer: str) -> list[str]:
    """Split a JSON pointer into unescaped reference tokens.

    ``""`` is the whole document (no tokens); every other pointer starts with ``/``. ``~1`` unescapes
    to ``/`` and ``~0`` to ``~``, in that order, as RFC 6901 section 4 requires.

    Raises ``ValueError`` for text that is not a JSON pointer.
    """
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"{pointer!r} is not a JSON pointer: it must be empty or start with '/' (try '/{pointer}')")
    tokens = pointer[1:].split("/")
    for token in tokens:
        # A '~' not followed by 0 or 1 is malformed (RFC 6901 section 3).
        if "~" in token.replace("~0", "").replace("~1", ""):
            raise ValueError(f"{pointer!r} is not a JSON pointer: '~' must be written '~0' and '/' as '~1'")
    return [token.replace("~1", "/").replace("~0", "~") for token in tokens]


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at ``pointer`` in ``document``, or ``None`` when there is no such value.

    Objects are indexed by key, arrays by a decimal index without leading zeros (``-``, the
    past-the-end element, never exists). Indexing into a string, number or null finds nothing.

    Raises ``ValueError`` only when ``pointer`` itself is malformed.
    """
    current = document
    for token in parse_pointer(pointer):
        if isinstance(current, dict):
            if token not in current:
                return None
            current = current[token]
        elif isinstance(current, list):
            index = _array_index(token)
            if index is None or index >= len(current):
                return None
            current = current[index]
        else:
            return None
    return current


def explain_miss(document: Any, pointer: str) -> str:
    """Why ``pointer`` finds nothing in ``document``: the deepest part that resolved and what it holds.

    E.g. ``/choices/0/message has keys content, role`` or ``/data is a string, not an object``.
    """
    current, resolved = document, ""
    for token in parse_pointer(pointer):
        step = resolved + "/" + token.replace("~", "~0").replace("/", "~1")
        if isinstance(current, dict) and token in current:
            current, resolved = current[token], step
            continue
        if isinstance(current, list):
            index = _array_index(token)
            if index is not None and index < len(current):
                current, resolved = current[index], step
                continue
        break
    where = resolved or "the body"
    if isinstance(current, dict):
        keys = ", ".join(sorted(map(str, current))[:20]) or "none"
        return f"{where} has keys {keys}"
    if isinstance(current, list):
        return f"{where} is a list of {len(current)}"
    kind = "null" if current is None else type(current).__name__
    return f"{where} is {'null' if current is None else 'a ' + kind}, not an object"


def set_pointer(document: Any, pointer: str, value: Any) -> None:
    """Set the value at ``pointer`` in ``document`` in place, creating missing objects on the way.

    An array is indexed by position or ``-`` (append). Raises ``ValueError`` for the whole-document
    pointer ``""`` or a path through a value that is not an object or array.
    """
    tokens = parse_pointer(pointer)
    if not tokens:
        raise ValueError("cannot set the whole document: give a pointer below it, e.g. /stream")
    current = document
    for position, token in enumerate(tokens):
        last = position == len(tokens) - 1
        if isinstance(current, dict):
            if last:
                current[token] = value
            else:
                current = current.setdefault(token, {})
        elif isinstance(current, list):
            index = len(current) if token == "-" else _array_index(token)
            if index is None or index > len(current):
                raise ValueError(f"{pointer!r}: no array element {token!r}")
            if last:
                if index == len(current):
                    current.append(value)
                else:
                    current[index] = value
            else:
                current = current[index]
        else:
            raise ValueError(f"{pointer!r}: {'/'.join(tokens[:position]) or 'the body'} is not an object or array")


def _array_index(token: str) -> int | None:
    """The array index a token names, or None (RFC 6901: digits, no leading zero, no sign)."""
    if not token.isascii() or not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        return None
    return int(token)
