"""Loading the plugin stays cheap: pytest imports it in every run of every project it is installed in.

Heavy libraries load when a run first needs them (a case file, a delivery, a check); a subprocess keeps
this test's own imports out of the picture. The built-in checks' argument schemas are checked here,
since registration skips jsonschema for them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import harness

HEAVY = (
    "openai",
    "allure",
    "allure_commons",
    "deepdiff",
    "ftfy",
    "jsonschema",
    "httpx",
    "httpx_sse",
    "uvicorn",
    "fastapi",
    "starlette",
    "pydantic",
    "yaml",
    "standardwebhooks",
    "tenacity",
    "rank_bm25",
    "numpy",  # with onnxruntime and tokenizers: semantic parity's local model, loaded at its first use
    "onnxruntime",
    "tokenizers",
    "reference_services",
    "harness._verdict._checks",
    "harness._run._runner",
    "harness._delivery",
    "harness._verdict._parity",
)


def _loaded_after(statement: str) -> list[str]:
    script = f"import sys\n{statement}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("statement", ["import harness.plugin", "import harness"])
def test_importing_the_plugin_loads_nothing_heavy(statement: str) -> None:
    loaded = set(_loaded_after(statement))
    assert sorted(name for name in HEAVY if name in loaded) == []


def test_importing_the_check_registry_leaves_the_grader_and_validators_out() -> None:
    # Collection needs the registry (names and scopes); only a run that calls llm_judge needs openai.
    loaded = set(_loaded_after("import harness._verdict._checks"))
    assert sorted(name for name in ("openai", "deepdiff", "ftfy", "jsonschema") if name in loaded) == []


@pytest.mark.parametrize("name", [n for n in harness.check_names() if harness.get_check(n).arg_schema is not None])
def test_builtin_argument_schemas_are_valid(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(harness.get_check(name).arg_schema)


def test_a_pytest_run_of_an_unrelated_test_loads_nothing_heavy_with_the_plugin(tmp_path: Path) -> None:
    # The plugin as pytest loads it (its pytest_plugins, hooks and configure included), not just its import:
    # heavy modules loaded with the plugin and not without it are its cost to every unrelated run.
    (tmp_path / "test_unrelated.py").write_text(
        "import json, sys\n\ndef test_x():\n    (__import__('pathlib').Path('modules.json')"
        ".write_text(json.dumps(sorted(sys.modules))))\n",
        encoding="utf-8",
    )

    def loaded(*options: str) -> set[str]:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, "test_unrelated.py"]
        subprocess.run(command, cwd=tmp_path, capture_output=True, check=True, timeout=120)
        return set(json.loads((tmp_path / "modules.json").read_text(encoding="utf-8")))

    added = loaded() - loaded("-p", "no:harness")
    assert sorted(name for name in HEAVY if name in added) == []
