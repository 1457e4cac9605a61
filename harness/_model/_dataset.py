"""Cases from a dataset: the rows of a JSONL or CSV file, each filling a case template.

A template is a case whose strings may hold ``${column}`` placeholders. A string that is exactly one
placeholder takes the row's value with its type (a JSON list stays a list, a number a number); a
placeholder inside a longer string is interpolated as text. ``$${`` writes a literal ``${``.

Datasets come from pull requests like case files, so reading is bounded (``MAX_DATASET_BYTES``,
``MAX_DATASET_ROWS``) and every problem is a ``CaseFileError`` naming the dataset file and line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness._errors import CaseFileError
from harness._model._yaml import KeyPath, _decode, line_of_byte

__all__ = ["MAX_DATASET_BYTES", "MAX_DATASET_ROWS", "MissingColumn", "Row", "Template", "read_rows", "row_marks"]

MAX_DATASET_BYTES = 50 * 1024 * 1024
MAX_DATASET_ROWS = 100_000
ROW_NUMBER = "_row"
"""The placeholder for the row's 1-based number (``${_row}``), unless the row has a column of that name."""

_PLACEHOLDER = re.compile(r"\$(\$?)\{([^{}]*)\}")
# Only cells that start like JSON are tried: most text cells are not, and an exception per cell costs.
_JSON_START = frozenset('[{"-0123456789tfn')


@dataclass(frozen=True)
class Row:
    """One dataset row: its 1-based number, the line it starts on, and its values by column."""

    number: int
    line: int
    values: dict[str, Any]


class MissingColumn(Exception):
    """A template placeholder names a column the row lacks."""

    def __init__(self, column: str, loc: KeyPath) -> None:
        super().__init__(column)
        self.column = column
        self.loc = loc


# ---------------------------------------------------------------- templates

_Filler = Callable[[dict[str, Any]], Any]


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class Template:
    """A case template compiled once, so filling a row walks prepared fillers instead of re-scanning strings."""

    def __init__(self, data: dict[str, Any], text_keys: frozenset[str] = frozenset()) -> None:
        """``text_keys``: top-level keys whose value is always text (a case ``id`` from a numeric column)."""
        self.data = data
        self.columns: dict[str, KeyPath] = {}
        """Every column the template uses, with where it is first used."""
        self._fill = self._compile(data, (), text_keys)

    def fill(self, values: dict[str, Any]) -> dict[str, Any]:
        """The template with ``values`` filled in; ``MissingColumn`` if a used column is absent."""
        if len(self.columns) and not self.columns.keys() <= values.keys():
            missing = next(c for c in self.columns if c not in values)
            raise MissingColumn(missing, self.columns[missing])
        filled: dict[str, Any] = self._fill(values)
        return filled

    def _compile(self, node: Any, loc: KeyPath, text_keys: frozenset[str] = frozenset()) -> _Filler:
        if isinstance(node, dict):
            # Containers are rebuilt per row: no two cases share a mutable value.
            items = [(k, self._compile(v, (*loc, k), frozenset({k}) & text_keys)) for k, v in node.items()]
            return lambda values: {k: fill(values) for k, fill in items}
        if isinstance(node, list):
            fills = [self._compile(v, (*loc, i)) for i, v in enumerate(node)]
            return lambda values: [fill(values) for fill in fills]
        if isinstance(node, str) and "${" in node:
            return self._compile_string(node, loc, as_text=bool(text_keys))
        return lambda values: node

    def _compile_string(self, text: str, loc: KeyPath, *, as_text: bool) -> _Filler:
        parts: list[str | tuple[str]] = []  # literal text, or (column,)
        at = 0
        for match in _PLACEHOLDER.finditer(text):
            parts.append(text[at : match.start()])
            at = match.end()
            if match.group(1):  # $${...}: a literal ${...}
                parts.append(match.group(0)[1:])
                continue
            column = match.group(2).strip()
            self.columns.setdefault(column, loc)
            parts.append((column,))
        parts.append(text[at:])
        parts = [p for p in parts if p != ""]
        if len(parts) == 1 and isinstance(parts[0], tuple):
            (column,) = parts[0]
            if as_text:
                return lambda values: _as_text(values[column])
            return lambda values: values[column]  # the whole value: the row's value, type kept
        if all(isinstance(p, str) for p in parts):
            literal = "".join(p for p in parts if isinstance(p, str))
            return lambda values: literal
        return lambda values: "".join(p if isinstance(p, str) else _as_text(values[p[0]]) for p in parts)


def row_marks(value: Any) -> list[Any] | None:
    """A row's marks: a list as is, a comma-separated string split, empty for null or ""; None if neither."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    return None


# ---------------------------------------------------------------- reading rows


def read_rows(
    path: Path, display: str, *, json_cells: bool = True, named_at: tuple[str, int | None] | None = None
) -> list[Row]:
    """The rows of a ``.jsonl`` / ``.ndjson`` or ``.csv`` file; ``CaseFileError`` naming ``display:line``.

    ``named_at`` is the file and line that name the dataset (the case file's ``dataset: file:``): a dataset
    that cannot be read at all, or has an unknown format, is reported there.
    """
    at_file, at_line = named_at or (display, None)
    suffix = path.suffix.lower()
    if suffix not in {".jsonl", ".ndjson", ".csv"}:
        raise CaseFileError(
            at_file,
            at_line,
            f"dataset {display}: unknown dataset format {path.suffix!r}",
            "use a .jsonl (one JSON object a line) or .csv file",
        )
    split = "split it into several datasets, each with its own case file"
    try:
        size = path.stat().st_size
        if size > MAX_DATASET_BYTES:
            limit = MAX_DATASET_BYTES // 1024 // 1024
            line = line_of_byte(path, MAX_DATASET_BYTES)
            raise CaseFileError(
                display,
                line,
                f"dataset is {size / 1024 / 1024:.1f} MB; the limit is {limit} MB, passed at line {line}",
                split,
            )
        text = _decode(path.read_bytes(), display)
    except OSError as exc:
        raise CaseFileError(
            at_file, at_line, f"cannot read dataset {display}: {exc.strerror or exc}", "check 'dataset: file:'"
        ) from None
    rows = _jsonl_rows(text, display) if suffix != ".csv" else _csv_rows(text, display, json_cells=json_cells)
    out: list[Row] = []
    for row in rows:
        if len(out) == MAX_DATASET_ROWS:
            raise CaseFileError(display, row.line, f"more than {MAX_DATASET_ROWS:,} rows", split)
        out.append(row)
    if not out:
        raise CaseFileError(display, 1, "the dataset has no rows", "add rows, or remove 'dataset:' from the case file")
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate key {duplicate!r}")
    return obj


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_object_without_duplicates)


def _jsonl_rows(text: str, display: str) -> Iterator[Row]:
    number = 0
    # split("\n"), not splitlines(): line numbers must match what editors show (U+2028 is not a line break).
    for index, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        number += 1
        try:
            values = _loads(line)
        except json.JSONDecodeError as exc:
            raise CaseFileError(
                display,
                index + 1,
                f"row {number}: not JSON: {exc.msg} at column {exc.colno}",
                "write each row as one JSON object on one line",
            ) from None
        except (ValueError, RecursionError) as exc:
            raise CaseFileError(display, index + 1, f"row {number}: not JSON: {exc}", "fix the row") from None
        if not isinstance(values, dict):
            raise CaseFileError(
                display,
                index + 1,
                f"row {number} is a JSON {type(values).__name__}, not an object",
                'write each row as a JSON object: {"column": value, ...}',
            )
        yield Row(number, index + 1, values)


def _cell(text: str) -> Any:
    """A CSV cell: its JSON value when it is JSON (``3``, ``true``, ``["a", "b"]``), else the text."""
    stripped = text.lstrip()
    if not stripped or stripped[0] not in _JSON_START:
        return text
    try:
        return _loads(text)
    except (ValueError, RecursionError):
        return text


def _csv_rows(text: str, display: str, *, json_cells: bool) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return
        names: list[str] = [name.strip() for name in header]
        problems: list[str] = [n for n in names if not n] or [n for i, n in enumerate(names) if n in names[:i]]
        if problems:
            what = "an empty column name" if not problems[0] else f"column {problems[0]!r} twice"
            raise CaseFileError(display, 1, f"the header row has {what}", "name every column once in the first row")
        number = 0
        start = reader.line_num + 1
        for record in reader:
            line, start = start, reader.line_num + 1
            if not record:
                continue  # a blank line
            number += 1
            if len(record) != len(names):
                raise CaseFileError(
                    display,
                    line,
                    f"row {number} has {len(record)} cells, the header has {len(names)}",
                    "give every row one cell per column (quote cells that hold commas)",
                )
            cells = map(_cell, record) if json_cells else record
            yield Row(number, line, dict(zip(names, cells, strict=True)))
    except csv.Error as exc:
        raise CaseFileError(display, reader.line_num, f"CSV error: {exc}", "check the quoting of this row") from None
