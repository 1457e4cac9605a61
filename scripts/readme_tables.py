"""Render README.md's generated tables: the options (from ``harness._run._options.OPTIONS``) and the built-in checks.

    python scripts/readme_tables.py          # rewrite the tables in README.md
    python scripts/readme_tables.py --check  # exit 1 if a table is out of date

Tests fail when a table drifts from its source (tests/unit/test_options.py, tests/plugin/test_custom_checks.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parent.parent / "README.md"
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


def render_options_table() -> str:
    """The markdown table of every option: flag (or ini key), description with its twins, default."""
    from harness._run._options import OPTIONS

    rows = ["| Option | Description | Default |", "|---|---|---|"]
    for option in OPTIONS:
        name = f"`{option.flag} {option.metavar}`" if option.flag else f"ini `{option.dest}`"
        twins = [f"ini `{option.dest}`"] if option.ini and option.flag and not option.external else []
        twins += [f"env `{option.env}`"] if option.env else []
        description = (option.help + (f"; also {', '.join(twins)}" if twins else "")).replace("|", "\\|")
        rows.append(f"| {name} | {description} | {option.shown_default} |")
    return "\n".join(rows)


def render_table() -> str:
    """The markdown table of the built-in checks (user checks registered in this process are left out)."""
    from harness._verdict._checks import check_names, get_check

    rows = ["| Check | Runs on | Argument | Asserts |", "|---|---|---|---|"]
    for name in check_names():
        registered = get_check(name)
        if not registered.fn.__module__.startswith("harness."):
            continue
        runs_on = "QA and prod, each" if registered.scope == "side" else "the QA/prod pair"
        doc = registered.doc.replace("``", "`").replace("|", "\\|")
        rows.append(f"| `{name}` | {runs_on} | {describe_arg(registered.arg_schema)} | {doc} |")
    return "\n".join(rows)


def with_table(document: str, name: str, table: str) -> str:
    """``document`` with the text between the ``name`` table's markers replaced by ``table``."""
    start, end = f"<!-- {name}-table:start -->", f"<!-- {name}-table:end -->"
    head, found, rest = document.partition(start)
    if not found:
        raise SystemExit(f"{DOC} has no {start} marker")
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{table}\n{end}{tail}"


def render(document: str) -> str:
    """``document`` with every generated table brought up to date."""
    document = with_table(document, "options", render_options_table())
    return with_table(document, "checks", render_table())


def main(argv: list[str]) -> int:
    document = DOC.read_text(encoding="utf-8")
    updated = render(document)
    if "--check" in argv:
        if updated != document:
            print(f"{DOC} is out of date: run python scripts/readme_tables.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
