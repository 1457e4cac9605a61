"""The strict base of every file model, and pydantic validation errors turned into one file:line message."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from harness._errors import CaseFileError
from harness._model._yaml import LocatedDocument


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo in a case file or spec must not be a silent no-op."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_FIXES = {
    "extra_forbidden": "remove it or correct its spelling",
    "missing": "add it",
    "literal_error": "use one of the allowed values",
    "number_out_of_range": "give a number in that range",
    "url_path": "correct the path",
}


def _known_keys(data: Any, loc: tuple[Any, ...]) -> set[Any]:
    """Every key reachable along ``loc`` in the parsed data (to drop pydantic's union tags)."""
    keys: set[Any] = set()
    node = data
    for part in loc:
        if isinstance(node, dict):
            keys.update(node)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            break
    return keys


def _allowed_keys(path: tuple[Any, ...], root: type[BaseModel], by_key: dict[str, type[BaseModel]]) -> list[str]:
    named = [p for p in path if isinstance(p, str)]
    model = by_key.get(named[-1], root) if named else root
    return sorted(model.model_fields)


def _describe(
    error: Any, doc: LocatedDocument, root: type[BaseModel], by_key: dict[str, type[BaseModel]]
) -> tuple[int | None, str, str]:
    """(line, message with the YAML excerpt, fix) for one pydantic error."""
    loc = tuple(error["loc"])
    known = _known_keys(doc.data, loc)
    path = tuple(p for p in loc if isinstance(p, int) or p in known)
    line = doc.line_of(path)
    where = ".".join(str(p) for p in path) or "(top level)"
    kind = error["type"]
    fix = _FIXES.get(kind, "")
    if kind == "extra_forbidden":
        key = str(path[-1])
        allowed = _allowed_keys(path[:-1], root, by_key)
        close = difflib.get_close_matches(key, allowed, n=1)
        message = f"unknown key {key!r} at {where}"
        fix = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(allowed)}"
    elif kind == "missing":
        message = f"missing required key {loc[-1]!r} at {where}"
        fix = f"add '{loc[-1]}:'"
    else:
        message = f"{where}: {error['msg']}"
        if "input" in error:
            message += f" (got {error['input']!r})"
    excerpt = doc.excerpt(line)
    if excerpt:
        message += f"\n    {line} | {excerpt}"
    return line, message, fix


def validation_error(
    exc: ValidationError,
    doc: LocatedDocument,
    what: str,
    root: type[BaseModel],
    by_key: dict[str, type[BaseModel]],
) -> CaseFileError:
    """One ``CaseFileError``: the problem, its line, the offending YAML and the fix (up to five problems)."""
    errors = exc.errors()
    described = [_describe(err, doc, root, by_key) for err in errors[:5]]
    line, message, fix = described[0]
    if len(errors) == 1:
        return CaseFileError(doc.path, line, f"invalid {what}: {message}", fix)
    parts = [f"invalid {what}: {len(errors)} problems"]
    for other_line, other_message, other_fix in described:
        parts.append(f"  line {other_line}: {other_message}" + (f"\n    fix: {other_fix}" if other_fix else ""))
    if len(errors) > 5:
        parts.append(f"  ({len(errors) - 5} more)")
    return CaseFileError(doc.path, line, "\n".join(parts))
