"""The docs' generated reference tables are fresh, drift is caught, and they cover what the code declares."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.support.docs import DOCS, docs_tables

TABLES = docs_tables()


def test_every_generated_table_is_fresh() -> None:
    assert TABLES.main(["--check"]) == 0, "the docs' generated tables are stale: run python scripts/docs_tables.py"


def test_a_drifted_table_is_reported_and_rewritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(DOCS / "reference", reference)
    monkeypatch.setattr(TABLES, "REFERENCE", reference)
    monkeypatch.setattr(TABLES, "ROOT", tmp_path)
    page = reference / "options.md"
    page.write_text(re.sub(r"^\| `--harness-seed N` .*\n", "", page.read_text("utf-8"), flags=re.M), "utf-8")

    assert TABLES.main(["--check"]) == 1
    assert "generated tables out of date in reference/options.md" in capsys.readouterr().err
    assert TABLES.main([]) == 0
    assert "`--harness-seed N`" in page.read_text("utf-8")
    assert TABLES.main(["--check"]) == 0


def test_a_page_without_its_markers_stops_the_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(DOCS / "reference", reference)
    monkeypatch.setattr(TABLES, "REFERENCE", reference)
    monkeypatch.setattr(TABLES, "ROOT", tmp_path)
    (reference / "checks.md").write_text("# Checks\n", "utf-8")
    with pytest.raises(SystemExit, match=re.escape("reference/checks.md has no <!-- checks-table:start -->")):
        TABLES.main(["--check"])


def test_the_problem_table_names_every_declared_problem() -> None:
    from harness._delivery._problems import PROBLEMS

    text = (DOCS / "reference" / "delivery-problems.md").read_text("utf-8")
    missing = [kind for kind in PROBLEMS if f"| `{kind}` |" not in text]
    assert not missing, f"delivery-problems.md: no row for {missing}"


def test_every_key_of_the_case_file_and_spec_models_has_a_row() -> None:
    from harness._model._case import CaseFile
    from harness._model._spec import ServiceSpec

    for root, page in ((CaseFile, "case-files.md"), (ServiceSpec, "service-specs.md")):
        text = (DOCS / "reference" / page).read_text("utf-8")
        for model in TABLES._models(root):
            for name, field in model.model_fields.items():
                assert f"| `{field.alias or name}` |" in text, f"{page}: no row for {model.__name__}.{name}"
