"""YAML loading that remembers where every value came from, so errors can name file:line."""

from __future__ import annotations

from typing import Any

import yaml

from harness._errors import CaseFileError

Path = tuple[str | int, ...]


class _Located(yaml.SafeLoader):
    """A safe loader that rejects duplicate keys."""


def _construct_mapping(loader: _Located, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
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


def _index_lines(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    """Record the 1-based line of every node, keyed by its path of keys and indexes."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = key_node.start_mark.line + 1
            _index_lines(value_node, (*path, key), lines)
            # A key's own line is more useful than its value's for "unknown key" errors.
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*path, index), lines)


class LocatedDocument:
    """A parsed YAML document with the line of each value."""

    def __init__(self, path: str, data: Any, lines: dict[Path, int], source: str) -> None:
        self.path = path
        self.data = data
        self.lines = lines
        self.source_lines = source.splitlines()

    def line_of(self, loc: Path) -> int | None:
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


def load_located(text: str, path: str) -> LocatedDocument:
    """Parse one YAML document, raising ``CaseFileError`` with the line on a syntax error."""
    try:
        node = yaml.compose(text, Loader=_Located)
        data = yaml.load(text, Loader=_Located)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            # e.g. an unclosed "{" is only noticed at the end of the file: name where it opened.
            problem = f"{problem} ({exc.context} that started at line {exc.context_mark.line + 1})"
        elif exc.context:
            problem = f"{exc.context}; {problem}"
        raise CaseFileError(
            path, line, f"YAML syntax error: {problem}", "check indentation, quoting and ':' after keys"
        ) from None
    lines: dict[Path, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return LocatedDocument(path, data, lines, text)
