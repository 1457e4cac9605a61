"""The README as tests see it: its generated tables and its code blocks."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def readme_tables() -> ModuleType:
    """``scripts/readme_tables.py`` (a script, not a package module), loaded from its file."""
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "scripts" / "readme_tables.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def code_blocks(*languages: str) -> list[str]:
    """The README's fenced code blocks in these languages, as written."""
    pattern = r"```(?:" + "|".join(languages) + r")\n(.*?)```"
    return re.findall(pattern, README.read_text(encoding="utf-8"), re.DOTALL)
