"""JSON Schemas for case files and service specs, generated from the pydantic models.

The published copies live beside this module (``case-file.schema.json``, ``service-spec.schema.json``)
so editors can validate and autocomplete; a test fails when they are stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness._model._case import CaseFile
from harness._model._spec import ServiceSpec
from harness._verdict._checks import check_names, get_check
from harness._verdict._checks._registry import is_built_in

HERE = Path(__file__).parents[1]  # the published schemas sit at the package root
SCHEMA_FILES = {"case-file": HERE / "case-file.schema.json", "service-spec": HERE / "service-spec.schema.json"}


def _check_spec_schema() -> dict[str, Any]:
    """Built-in check names offered for completion; other names stay valid (custom checks)."""
    # Only the harness's own checks: the published file must not depend on what a conftest registered.
    names = [name for name in check_names() if is_built_in(get_check(name).fn)]
    described = [{"const": name, "description": get_check(name).doc} for name in names]
    return {
        "description": "A check name, or a one-key mapping {name: argument}.",
        "anyOf": [
            {"anyOf": [*described, {"type": "string"}]},
            {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {name: get_check(name).arg_schema or {} for name in names},
            },
        ],
    }


def _replace_check_specs(node: Any, replacement: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if node.get("description") == "A check name, or a one-key mapping {name: argument}.":
            return replacement
        return {key: _replace_check_specs(value, replacement) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_check_specs(value, replacement) for value in node]
    return node


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of ``case-file`` or ``service-spec``."""
    if kind == "service-spec":
        generated = ServiceSpec.model_json_schema()
        generated["title"] = "qa-harness service spec"
    else:
        generated = _replace_check_specs(CaseFile.model_json_schema(), _check_spec_schema())
        generated["title"] = "qa-harness case file"
    generated["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return generated


def render(kind: str) -> str:
    """The schema as the text of its published file."""
    return json.dumps(schema(kind), indent=2, sort_keys=True) + "\n"
