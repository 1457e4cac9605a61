"""The published JSON Schemas match the models, and they validate real case files and reject bad ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness._model._schema import SCHEMA_FILES, render, schema

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_published_schema_is_current(kind: str) -> None:
    published = SCHEMA_FILES[kind].read_text(encoding="utf-8")
    assert published == render(kind), f"{SCHEMA_FILES[kind].name} is stale: run `harness schema --write`"


def test_every_case_file_and_spec_in_the_repo_validates() -> None:
    case_schema, spec_schema = schema("case-file"), schema("service-spec")
    files = sorted((ROOT / "cases").rglob("*.yaml"))
    assert len(files) > 5
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        jsonschema.validate(data, spec_schema if path.name == "service.yaml" else case_schema)


def test_schema_rejects_an_unknown_key_and_offers_check_names() -> None:
    case_schema = schema("case-file")
    with pytest.raises(jsonschema.ValidationError, match="chekcs"):
        jsonschema.validate({"cases": [{"id": "a", "chekcs": []}]}, case_schema)
    assert '"const": "choices_present"' in render("case-file")


def test_cli_prints_the_schema() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness", "schema", "service-spec"], capture_output=True, text=True, check=True
    )
    assert done.stdout == render("service-spec")
