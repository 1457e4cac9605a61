"""The recorded case file: YAML a person can read, replaced atomically so it is always whole.

Each write goes to a temporary file next to the target and is renamed over it (``os.replace``), so an
interrupted recording (Ctrl-C, SIGTERM, a crash) leaves the last complete file, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks: a recorded exam reads as it was sent."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not any(ch in value for ch in "\r\t") and value == value.rstrip(" "):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def render_case(case: dict[str, Any]) -> str:
    """One case as an item of the ``cases:`` list (rendered once per case: the file is these, joined)."""
    return yaml.dump([case], Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)


def render_case_file(service: str, rendered_cases: Sequence[str], header: Sequence[str]) -> str:
    """The case file's text: comment lines, ``service``, then the cases ``render_case`` rendered."""
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header)
    name = yaml.dump({"service": service}, Dumper=_Dumper, allow_unicode=True, width=120)
    cases = "cases:\n" + "".join(rendered_cases) if rendered_cases else "cases: []\n"
    return comments + name + cases


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (a temporary file in the same folder, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
