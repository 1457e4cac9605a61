"""The docs as tests see them: their fenced code blocks, and the script that renders their generated tables."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_FENCE = re.compile(
    r'^```(?P<language>[\w-]*)(?: title="(?P<title>[^"]*)")?\n(?P<text>.*?)^```$', re.MULTILINE | re.DOTALL
)


@dataclass(frozen=True)
class Block:
    """One fenced code block: ```language title="..."``` as written, and the line it starts on."""

    language: str
    title: str | None
    text: str
    line: int


def docs_tables() -> ModuleType:
    """``scripts/docs_tables.py`` (a script, not a package module), loaded from its file."""
    spec = importlib.util.spec_from_file_location("docs_tables", ROOT / "scripts" / "docs_tables.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def blocks_of(markdown: str) -> list[Block]:
    """Every fenced code block of a Markdown text, in order."""
    return [
        Block(m["language"], m["title"], m["text"], markdown.count("\n", 0, m.start()) + 1)
        for m in _FENCE.finditer(markdown)
    ]


def code_blocks(page: str, *languages: str) -> list[str]:
    """The text of a docs page's fenced code blocks in these languages (``page`` relative to docs/)."""
    markdown = (DOCS / page).read_text(encoding="utf-8")
    return [block.text for block in blocks_of(markdown) if block.language in languages]
