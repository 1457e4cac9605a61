"""The docs' generated reference tables are fresh, drift is caught, and they cover what the code declares."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.support.docs import DOCS, ROOT, docs_tables

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


def test_the_problem_table_names_every_problem_the_adapters_raise() -> None:
    # Until harness._delivery._problems declares every kind once, the table's list is kept by hand: read the
    # adapters for the kinds they can raise, so a new one cannot go undocumented.
    raised: set[str] = set()
    for source in (ROOT / "harness" / "_delivery").glob("*.py"):
        text = source.read_text("utf-8")
        raised |= set(re.findall(r'Problem\(\s*"([a-z_]+)"', text))
        raised |= set(re.findall(r'broken(?::\s*str)?\s*=\s*"([a-z_]+)"', text))
    documented = {problem.kind for problem in TABLES.problem_kinds()}
    assert len(raised) >= 20
    assert raised <= documented, f"undocumented delivery problems: {sorted(raised - documented)}"


def test_every_key_of_the_case_file_and_spec_models_has_a_row() -> None:
    from harness._model._case import CaseFile
    from harness._model._spec import ServiceSpec

    for root, page in ((CaseFile, "case-files.md"), (ServiceSpec, "service-specs.md")):
        text = (DOCS / "reference" / page).read_text("utf-8")
        for model in TABLES._models(root):
            for name, field in model.model_fields.items():
                assert f"| `{field.alias or name}` |" in text, f"{page}: no row for {model.__name__}.{name}"
