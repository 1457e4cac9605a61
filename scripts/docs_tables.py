"""Render the docs' generated reference tables from the code, between markers in docs/reference/*.md.

    python scripts/docs_tables.py          # rewrite the tables
    python scripts/docs_tables.py --check  # exit 1 if a table is out of date (tests run this)

Each table sits between ``<!-- NAME-table:start -->`` and ``<!-- NAME-table:end -->`` in its page:
options (``harness._run._options.OPTIONS``), checks (the registry), case-file and service-spec keys (the
pydantic models behind the published JSON Schemas), presets (``harness._model._presets``), delivery problems
(``harness._delivery._problems.PROBLEMS``), the ``harness`` command line (its argparse parser) and the public
Python names (``harness.__all__``). The fault table of docs/reference/reference-services.md is rendered by
``python -m tests.faults.regenerate``.
"""

from __future__ import annotations

import argparse
import re
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference"
_PLURAL = {"string": "strings", "integer": "integers", "number": "numbers", "object": "objects"}


# ---------------------------------------------------------------- checks and options


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


def _cell(text: str) -> str:
    """Text that stays in its table cell, with ``<n>`` shown as text, not taken for HTML (outside code spans)."""
    parts = re.split(r"(`[^`]*`)", text.replace("|", "\\|").replace("\n", " "))
    return "".join(part if part.startswith("`") else part.replace("<", "&lt;") for part in parts)


def render_options_table() -> str:
    """Every option: flag (or ini key), description with its twins, default."""
    from harness._run._options import OPTIONS

    rows = ["| Option | Description | Default |", "|---|---|---|"]
    for option in OPTIONS:
        name = f"`{option.flag} {option.metavar}`" if option.flag else f"ini `{option.dest}`"
        twins = [f"ini `{option.dest}`"] if option.ini and option.flag and not option.external else []
        twins += [f"env `{option.env}`"] if option.env else []
        description = (option.help + (f"; also {', '.join(twins)}" if twins else "")).replace("|", "\\|")
        rows.append(f"| {name} | {description} | {option.shown_default} |")
    return "\n".join(rows)


def render_checks_table() -> str:
    """The built-in checks (user checks registered in this process are left out)."""
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


# ---------------------------------------------------------------- case-file and service-spec keys

_CHECK_SPEC = "A check name, or a one-key mapping {name: argument}."


def _models(root: type[Any]) -> list[type[Any]]:
    """``root`` and every pydantic model its fields use, in the order a reader meets them."""
    from pydantic import BaseModel

    found: list[type[Any]] = []

    def nested(annotation: Any) -> Iterator[type[Any]]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield annotation
        for arg in typing.get_args(annotation):
            yield from nested(arg)

    queue = [root]
    while queue:
        model = queue.pop(0)
        if model in found:
            continue
        found.append(model)
        for field in model.model_fields.values():
            queue += [m for m in nested(field.annotation) if m not in found]
    return found


def _type(node: dict[str, Any], defs: dict[str, Any], page: str) -> str:
    """A JSON Schema node read as a short type, linking the models that have their own table."""
    if node.get("description") == _CHECK_SPEC:
        return "[check](checks.md)"
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    options = node.get("anyOf") or node.get("oneOf")
    if options:
        parts = [_type(o, defs, page) for o in options if o.get("type") != "null"]
        return " or ".join(dict.fromkeys(parts)) or "null"
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return " \\| ".join(f"`{v}`" if v is not None else "`null`" for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        items = _type(node.get("items", {}), defs, page).split(" or ")
        return "list of " + " or ".join(_PLURAL.get(item, item) for item in items)
    if kind == "object":
        values = node.get("additionalProperties")
        if isinstance(values, dict) and values:
            return f"mapping of {_PLURAL.get(values_type := _type(values, defs, page), values_type)}"
        return "mapping"
    if isinstance(kind, list):
        return " or ".join(kind)
    return str(kind or "any JSON")


def _default(field: Any) -> str:
    """A field's default as the tables show it."""
    from pydantic_core import PydanticUndefined

    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if value is PydanticUndefined or value is None:
        return "—"
    if hasattr(value, "model_dump"):
        return "see its table"
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return f"`{_cell(yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix('...').strip())}`"


def render_model_tables(root: type[Any], title: str) -> str:
    """One table per model: key, type, default, meaning; the meaning comes from the field's description."""
    schema = root.model_json_schema()
    defs = schema.get("$defs", {})
    blocks: list[str] = []
    models = _models(root)
    case_fields = {}
    for model in models:  # a Defaults key means "this key of every case": say so with the case's meaning
        if model.__name__ == "Case":
            case_fields = model.model_fields
    for model in models:
        node = schema if model is root else defs[model.__name__]
        properties = node.get("properties", {})
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ").replace("``", "`")
        heading = title if model is root else model.__name__
        rows = [f"### {heading}", "", doc, "", "| Key | Type | Default | Meaning |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            key = field.alias or name
            meaning = field.description or ""
            if not meaning and model.__name__ == "Defaults" and name in case_fields:
                meaning = case_fields[name].description or ""
                meaning = f"For every case: {meaning[:1].lower()}{meaning[1:]}"
            if not meaning:
                raise SystemExit(f"{model.__module__}.{model.__name__}.{name} has no description: give its Field one")
            typed = _type(properties.get(key, {}), defs, title)
            rows.append(f"| `{key}` | {typed} | {_default(field)} | {_cell(meaning.replace('``', '`'))} |")
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks)


def render_case_file_tables() -> str:
    from harness._model._case import CaseFile

    return render_model_tables(CaseFile, "Case file")


def render_service_spec_tables() -> str:
    from harness._model._spec import ServiceSpec

    return render_model_tables(ServiceSpec, "Service spec")


# ---------------------------------------------------------------- presets

# The argument each preset is shown with; a preset added without one here stops the render, naming it.
PRESET_EXAMPLES: dict[str, Any] = {
    "openai-chat": None,
    "langserve": "/chat",
    "bentoml-task": {"api": "answer", "task": "answer_job"},
}


def _endpoint_line(endpoint: dict[str, Any]) -> str:
    return f"`{endpoint.get('method', 'POST')} {endpoint['path']}`, {endpoint['delivery']}"


def render_presets() -> str:
    """A summary table of the presets, then what each one expands to, as YAML."""
    from harness._model._presets import PRESET_ARG_SCHEMAS, PRESETS, expand_preset

    missing = sorted(set(PRESETS) - set(PRESET_EXAMPLES))
    if missing:
        raise SystemExit(
            f"scripts/docs_tables.py: give the preset(s) {', '.join(missing)} an example in PRESET_EXAMPLES"
        )
    rows = ["| Preset | Argument | QA | Prod |", "|---|---|---|---|"]
    sections: list[str] = []
    for name in sorted(PRESETS):
        example = PRESET_EXAMPLES[name]
        written = name if example is None else {name: example}
        keys = expand_preset(written)
        argument = describe_arg(PRESET_ARG_SCHEMAS[name]) if name in PRESET_ARG_SCHEMAS else "—"
        rows.append(f"| `{name}` | {argument} | {_endpoint_line(keys['qa'])} | {_endpoint_line(keys['prod'])} |")
        shown = yaml.safe_dump({"preset": written}, default_flow_style=None, sort_keys=False).strip()
        doc = (PRESETS[name].__doc__ or "").replace("``", "`").strip()
        expansion = yaml.safe_dump(keys, default_flow_style=False, sort_keys=False, allow_unicode=True).strip()
        sections.append(
            f"### {name}\n\n{doc}\n\n```yaml\n{shown}\n```\n\nstands for these spec keys:\n\n```yaml\n{expansion}\n```"
        )
    return "\n".join(rows) + "\n\n" + "\n\n".join(sections)


# ---------------------------------------------------------------- delivery problems


def problem_kinds() -> list[Any]:
    """Every delivery problem kind, as ``harness._delivery._problems.PROBLEMS`` declares them, in its order."""
    from harness._delivery._problems import PROBLEMS

    return list(PROBLEMS.values())


def _delivery_of(kind: str) -> str:
    if kind == "job_failed":
        return "callback, poll"
    for prefix, delivery in (("stream_", "sse"), ("callback_", "callback"), ("poll_", "poll")):
        if kind.startswith(prefix):
            return delivery
    return "any"


def render_problems_table() -> str:
    rows = ["| Problem | Delivery | Meaning | Output judged |", "|---|---|---|---|"]
    for problem in problem_kinds():
        judged = "no: checks skipped, parity blocked" if problem.blocks_output else "yes: checks and parity still run"
        rows.append(f"| `{problem.kind}` | {_delivery_of(problem.kind)} | {_cell(problem.meaning)} | {judged} |")
    return "\n".join(rows)


# ---------------------------------------------------------------- the harness command line


class _Parsed(Exception):
    """Carries the parser ``harness.__main__.main`` built out of its ``parse_args`` call."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def _cli_parser() -> argparse.ArgumentParser:
    """The ``harness`` parser, caught as ``main`` hands it the arguments (main builds it inline)."""
    from harness.__main__ import main

    original = argparse.ArgumentParser.parse_args

    def caught(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        raise _Parsed(self)

    argparse.ArgumentParser.parse_args = caught  # type: ignore[method-assign]
    try:
        main(["--help"])
    except _Parsed as parsed:
        return parsed.parser
    finally:
        argparse.ArgumentParser.parse_args = original  # type: ignore[method-assign]
    raise SystemExit("harness.__main__.main did not parse its arguments with argparse")


def _argument(action: argparse.Action) -> str:
    if action.option_strings:
        flags = ", ".join(action.option_strings)
        return f"`{flags}`" if action.nargs == 0 else f"`{flags} {action.metavar or action.dest.upper()}`"
    name = action.metavar or action.dest.upper()
    if action.choices:
        name = "{" + ",".join(str(c) for c in action.choices) + "}"
    return f"`{name}`" + (" …" if action.nargs in ("+", "*") else "")


def render_cli() -> str:
    """Each ``harness`` subcommand: what it does, and its arguments with their defaults."""
    parser = _cli_parser()
    sections: list[str] = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, sub in action.choices.items():
            rows = [f"### harness {name}", "", _cell(helps.get(name) or sub.description or ""), ""]
            rows += ["| Argument | Meaning | Default |", "|---|---|---|"]
            for arg in sub._actions:
                if isinstance(arg, argparse._HelpAction):
                    continue
                default = arg.default
                shown = "—" if default in (None, False, argparse.SUPPRESS) or arg.required else f"`{default}`"
                rows.append(f"| {_argument(arg)} | {_cell(arg.help or '—')} | {shown} |")
            sections.append("\n".join(rows))
    return "\n\n".join(sections)


# ---------------------------------------------------------------- the public Python names


def render_api_table() -> str:
    """Every name ``harness`` exports, with the first line of its docstring."""
    import inspect

    import harness

    rows = ["| Name | Kind | What |", "|---|---|---|"]
    for name in harness.__all__:
        value = getattr(harness, name)
        kind = "class" if inspect.isclass(value) else "function" if callable(value) else "value"
        doc = (inspect.getdoc(value) or "").split("\n\n")[0].replace("\n", " ").replace("``", "`")
        if not doc:
            raise SystemExit(f"harness.{name} has no docstring: give it one")
        rows.append(f"| `harness.{name}` | {kind} | {_cell(doc)} |")
    return "\n".join(rows)


# ---------------------------------------------------------------- pages


TABLES: dict[str, tuple[str, Callable[[], str]]] = {
    "options": ("options.md", render_options_table),
    "checks": ("checks.md", render_checks_table),
    "case-file": ("case-files.md", render_case_file_tables),
    "service-spec": ("service-specs.md", render_service_spec_tables),
    "presets": ("presets.md", render_presets),
    "problems": ("delivery-problems.md", render_problems_table),
    "cli": ("cli.md", render_cli),
    "api": ("python-api.md", render_api_table),
}
"""Marker name -> (page under docs/reference/, renderer)."""


def with_table(document: str, name: str, table: str, page: Path) -> str:
    """``document`` with the text between the ``name`` table's markers replaced by ``table``."""
    start, end = f"<!-- {name}-table:start -->", f"<!-- {name}-table:end -->"
    head, found, rest = document.partition(start)
    if not found or end not in rest:
        raise SystemExit(f"{page.relative_to(ROOT)} has no {start} ... {end} markers")
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{table}\n{end}{tail}"


def rendered_pages() -> dict[Path, tuple[str, str]]:
    """Each page with generated tables: (text on disk, text with every table brought up to date)."""
    pages: dict[Path, tuple[str, str]] = {}
    for name, (page_name, render) in TABLES.items():
        page = REFERENCE / page_name
        current, updated = pages.get(page, (page.read_text(encoding="utf-8"),) * 2)
        pages[page] = (current, with_table(updated, name, render(), page))
    return pages


def main(argv: list[str]) -> int:
    stale = []
    for page, (current, updated) in rendered_pages().items():
        if updated == current:
            continue
        if "--check" in argv:
            stale.append(str(page.relative_to(ROOT)))
        else:
            page.write_text(updated, encoding="utf-8")
            print(f"wrote {page.relative_to(ROOT)}")
    if stale:
        print(f"generated tables out of date in {', '.join(stale)}: run python scripts/docs_tables.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
