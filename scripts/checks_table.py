"""Render the built-in checks table of README.md from the check registry.

    python scripts/checks_table.py          # rewrite the table in README.md
    python scripts/checks_table.py --check  # exit 1 if the table is out of date

``tests/plugin/test_custom_checks.py`` fails when the table drifts from the registry.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parent.parent / "README.md"
START = "<!-- checks-table:start -->"
END = "<!-- checks-table:end -->"
_PLURAL = {"string": "strings", "integer": "integers", "number": "numbers", "object": "objects"}


def describe_arg(schema: dict[str, Any] | None) -> str:
    """A short reading of a check's argument schema: ``string or list of strings``, ``{rubric, threshold?}``."""
    if schema is None:
        return "anything"
    options = schema.get("oneOf") or schema.get("anyOf")
    if options:
        parts = [describe_arg(o) for o in options if o.get("type") != "null"]
        optional = len(parts) < len(options)
        if not parts:
            return "—"
        return " or ".join(parts) + (" (optional)" if optional else "")
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "null":
        return "—"
    if kind == "array":
        item = describe_arg(schema.get("items"))
        return f"list of {_PLURAL.get(item, item)}"
    if kind == "object" and "properties" in schema:
        required = set(schema.get("required", []))
        keys = [key if key in required else f"{key}?" for key in schema["properties"]]
        return "{" + ", ".join(keys) + "}"
    return str(kind or "anything")


def render_table() -> str:
    """The markdown table of the built-in checks (user checks registered in this process are left out)."""
    from harness._checks import check_names, get_check

    rows = ["| Check | Runs on | Argument | Asserts |", "|---|---|---|---|"]
    for name in check_names():
        registered = get_check(name)
        if not registered.fn.__module__.startswith("harness."):
            continue
        runs_on = "QA and prod, each" if registered.scope == "side" else "the QA/prod pair"
        doc = registered.doc.replace("``", "`").replace("|", "\\|")
        rows.append(f"| `{name}` | {runs_on} | {describe_arg(registered.arg_schema)} | {doc} |")
    return "\n".join(rows)


def with_table(document: str, table: str) -> str:
    """``document`` with the text between the table markers replaced by ``table``."""
    head, _, rest = document.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str]) -> int:
    document = DOC.read_text(encoding="utf-8")
    updated = with_table(document, render_table())
    if "--check" in argv:
        if updated != document:
            print(f"{DOC} is out of date: run python scripts/checks_table.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
