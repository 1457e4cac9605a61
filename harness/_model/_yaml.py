"""YAML loading that remembers where every value came from, so errors can name file:line.

Case files come from pull requests, so loading is bounded: a file over ``MAX_FILE_BYTES`` is refused
before it is read whole (at the line where it passes the limit), aliases may repeat at most
``MAX_ALIAS_NODES`` values (a few hundred bytes of nested aliases otherwise expand to billions),
recursive aliases and tags other than YAML's plain data types (``!!python/object…``) are refused, and
text that is not UTF-8 is named by line and column."""

from __future__ import annotations

import pathlib
from typing import Any

import yaml

from harness._errors import CaseFileError

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_FILE_BYTES",
    "KeyPath",
    "LocatedDocument",
    "line_of_byte",
    "load_located",
    "read_located",
]

KeyPath = tuple[str | int, ...]
"""Where a value sits in a document: its keys and list indexes from the root."""

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ALIAS_NODES = 100_000
"""How many values aliases may add to a document beyond the ones written out."""

_CHUNK = 1024 * 1024
"""How much of an oversized file is read at once to find the line where it passes the limit."""

_SYNTAX_FIX = "check indentation, quoting and ':' after keys"

# libyaml's parser when PyYAML was built with it (several times faster); the constructor, and with
# it the duplicate-key check below, is Python either way.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Located(_Loader):  # type: ignore[valid-type,misc]
    """A safe loader that rejects duplicate keys."""


class _PureLocated(yaml.SafeLoader):
    """The pure-Python twin, only to word a syntax error as users have always seen it."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Located.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_PureLocated.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _index_lines(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    """Record the 1-based line of every node, keyed by its path of keys and indexes."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            _index_lines(value_node, (*path, key), lines)
            # A key's own line is more useful than its value's for "unknown key" errors.
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*path, index), lines)


class LocatedDocument:
    """A parsed YAML document with the line of each value."""

    def __init__(self, path: str, data: Any, lines: dict[KeyPath, int], source: str) -> None:
        self.path = path
        self.file: pathlib.Path | None = None
        """The file read, when read from one: files it names (a dataset) are found beside it."""
        self.data = data
        self.lines = lines
        self.source_lines = source.splitlines()

    def line_of(self, loc: KeyPath) -> int | None:
        """The line of the deepest known prefix of ``loc``."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None

    def excerpt(self, line: int | None) -> str:
        """The source line, for showing the offending YAML."""
        if line is None or not 1 <= line <= len(self.source_lines):
            return ""
        return self.source_lines[line - 1].rstrip()


def read_located(path: pathlib.Path, display: str) -> LocatedDocument:
    """Read and parse one YAML file; ``CaseFileError`` naming ``display`` if it cannot be read or is too big."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _too_big(display, size, line_of_byte(path, MAX_FILE_BYTES))
        data = path.read_bytes()
    except OSError as exc:
        raise CaseFileError(display, None, f"cannot read file: {exc}") from None
    doc = load_located(data, display)
    doc.file = path
    return doc


def load_located(source: str | bytes, path: str) -> LocatedDocument:
    """Parse one YAML document (bytes must be UTF-8), raising ``CaseFileError`` with the line on any error."""
    size = len(source)
    if size > MAX_FILE_BYTES:
        head = source[:MAX_FILE_BYTES]
        newlines = head.count(b"\n") if isinstance(head, bytes) else head.count("\n")
        raise _too_big(path, size, newlines + 1)
    text = _decode(source, path) if isinstance(source, bytes) else source
    loader = _Located(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return LocatedDocument(path, None, {}, text)
        _check_graph(node, loader, path, text)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _syntax_error(text, path, exc) from None
    except RecursionError:
        raise CaseFileError(path, None, "YAML nested too deeply", "flatten the structure") from None
    finally:
        loader.dispose()
    lines: dict[KeyPath, int] = {}
    _index_lines(node, (), lines)
    return LocatedDocument(path, data, lines, text)


def _decode(data: bytes, path: str) -> str:
    """UTF-8 text (a leading BOM dropped), or a ``CaseFileError`` at the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise CaseFileError(
            path,
            line,
            f"not UTF-8: byte 0x{data[exc.start]:02x} at line {line}, column {column} (byte offset {exc.start})",
            "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
        ) from None


def _too_big(path: str, size: int, line: int) -> CaseFileError:
    """The refusal of a file over ``MAX_FILE_BYTES``, at the ``line`` where it passes the limit."""
    return CaseFileError(
        path,
        line,
        f"file is {size / 1024 / 1024:.1f} MB; YAML files are limited to {MAX_FILE_BYTES // 1024 // 1024} MB, "
        f"which this file passes at line {line}",
        "split it into several files (a long text can move to a dataset file, up to 50 MB)",
    )


def line_of_byte(path: pathlib.Path, offset: int) -> int:
    """The 1-based line holding byte ``offset`` of a file, reading up to it a megabyte at a time."""
    line = 1
    with path.open("rb") as file:
        left = offset
        while left > 0:
            chunk = file.read(min(_CHUNK, left))
            if not chunk:
                break
            line += chunk.count(b"\n")
            left -= len(chunk)
    return line


def _check_graph(root: yaml.Node, loader: yaml.SafeLoader, path: str, text: str) -> None:
    """Refuse unsupported tags, recursive aliases and aliases that expand past ``MAX_ALIAS_NODES``.

    Aliases make the composed document a graph that shares nodes; counting its expanded size with a
    memo costs one visit per distinct node, however large the expansion.
    """
    expanded: dict[int, int] = {}
    open_nodes: set[int] = set()
    constructors = loader.yaml_constructors

    def size(node: yaml.Node) -> int:
        key = id(node)
        known = expanded.get(key)
        if known is not None:
            return known
        line = node.start_mark.line + 1
        if key in open_nodes:
            raise _error(path, line, text, "recursive YAML alias (a value that contains itself)", "remove the alias")
        if node.tag == "tag:yaml.org,2002:merge":
            # The duplicate-key check reads keys before a merge could fold them in.
            raise _error(path, line, text, f"YAML merge key '<<' at line {line} is not supported", "write the keys out")
        if node.tag not in constructors:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!", 1)
            raise _error(
                path,
                line,
                text,
                f"unsupported YAML tag {tag!r} at line {line}",
                "remove the tag: case files and specs hold plain data (maps, lists, strings, numbers, booleans)",
            )
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        open_nodes.discard(key)
        expanded[key] = total
        if total - len(expanded) > MAX_ALIAS_NODES:
            raise _error(
                path,
                line,
                text,
                f"YAML aliases expand this document past {MAX_ALIAS_NODES:,} repeated values",
                "write the values out, or repeat them through fewer aliases",
            )
        return total

    size(root)


def _error(path: str, line: int, text: str, message: str, fix: str) -> CaseFileError:
    """A ``CaseFileError`` with the offending source line under the message."""
    lines = text.splitlines()
    if 1 <= line <= len(lines):
        message += f"\n    {line} | {lines[line - 1].rstrip()}"
    return CaseFileError(path, line, message, fix)


def _syntax_error(text: str, path: str, fast: yaml.YAMLError) -> CaseFileError:
    """The error for text the fast parser refused, worded by the pure-Python parser as always."""
    try:
        yaml.load(text, Loader=_PureLocated)  # a SafeLoader subclass
    except RecursionError:
        return _marked_error(fast, text, path)  # nesting libyaml refused and Python cannot follow
    except yaml.YAMLError as exc:
        return _marked_error(exc, text, path)
    return _marked_error(fast, text, path)


def _marked_error(exc: yaml.YAMLError, text: str, path: str) -> CaseFileError:
    """A YAML error as file:line, the problem and the fix."""
    if isinstance(exc, yaml.reader.ReaderError):
        at = text.count("\n", 0, exc.position) + 1
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        return _error(
            path,
            at,
            text,
            f"character {char} at line {at} is not allowed in YAML",
            "remove it (control characters other than tab and newline cannot appear in YAML)",
        )
    if not isinstance(exc, yaml.MarkedYAMLError):
        return CaseFileError(path, None, f"YAML error: {exc}", _SYNTAX_FIX)
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    problem = exc.problem or "invalid YAML"
    if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
        # e.g. an unclosed "{" is only noticed at the end of the file: name where it opened.
        problem = f"{problem} ({exc.context} that started at line {exc.context_mark.line + 1})"
    elif exc.context:
        problem = f"{exc.context}; {problem}"
    return CaseFileError(path, line, f"YAML syntax error: {problem}", _SYNTAX_FIX)
