"""Cases from datasets: template filling keeps types and interpolates text, CSV cells parse as JSON, ids and
marks come from rows, and a bad row is an error naming the dataset file:line and the template's line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from harness._errors import CaseFileError
from harness._model._case import ResolvedCase, parse_case_file, resolve_cases
from harness._model._dataset import MissingColumn, Template, read_rows
from tests.support.docs import code_blocks

CASE_FILE = """\
defaults:
  checks: [no_pii]
  marks: [smoke]
dataset:
  file: {file}
  marks_column: marks
template:
  id: "q-${{id}}"
  input: {{course: "${{course}}", message: "${{question}}", count: "${{n}}", note: "${{n}} items, $${{literal}}"}}
  checks: [{{expected_sources: "${{sources}}"}}, {{icontains: "${{must}}"}}]
"""


def resolve(folder: Path, case_file: str, rows: str, name: str = "rows.jsonl") -> list[ResolvedCase]:
    (folder / name).write_text(textwrap.dedent(rows), encoding="utf-8")
    path = folder / "cases.yaml"
    path.write_text(case_file.format(file=name), encoding="utf-8")
    parsed, doc = parse_case_file(path, "cases/cases.yaml")
    return resolve_cases(parsed, doc, "svc")


def error(folder: Path, case_file: str, rows: str, name: str = "rows.jsonl") -> str:
    with pytest.raises(CaseFileError) as info:
        resolve(folder, case_file, rows, name)
    return str(info.value)


def jsonl(*rows: dict[str, Any]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


ROW = {"id": 1, "course": "Macro", "question": "What is GDP?", "n": 3, "sources": ["a/b"], "must": ["gdp", "output"]}


def test_a_whole_value_placeholder_keeps_the_rows_json_type(tmp_path: Path) -> None:
    (case,) = resolve(tmp_path, CASE_FILE, jsonl(ROW))
    assert case.case.input == {"course": "Macro", "message": "What is GDP?", "count": 3, "note": "3 items, ${literal}"}
    assert case.checks == (("no_pii", None), ("expected_sources", ["a/b"]), ("icontains", ["gdp", "output"]))


def test_placeholders_inside_text_interpolate_json_text() -> None:
    template = Template({"a": "${x}/${y}", "b": ["${x}", {"c": "${y}"}], "d": 5, "e": "no placeholder"})
    filled = template.fill({"x": None, "y": [1, "é"]})
    assert filled == {"a": 'null/[1, "é"]', "b": [None, {"c": [1, "é"]}], "d": 5, "e": "no placeholder"}
    assert template.columns == {"x": ("a",), "y": ("a",)}


def test_filling_never_shares_containers_between_rows() -> None:
    template = Template({"input": {"fixed": [1, 2]}})
    first, second = template.fill({}), template.fill({})
    first["input"]["fixed"].append(3)
    assert second == {"input": {"fixed": [1, 2]}}


def test_a_missing_column_names_the_column_and_where_the_template_uses_it() -> None:
    with pytest.raises(MissingColumn) as info:
        Template({"checks": [{"icontains": "${must}"}]}).fill({"other": 1})
    assert (info.value.column, info.value.loc) == ("must", ("checks", 0, "icontains"))


def test_a_missing_column_is_an_error_at_the_row_line_and_the_template_line(tmp_path: Path) -> None:
    row = {k: v for k, v in ROW.items() if k != "must"}
    got = error(tmp_path, CASE_FILE, jsonl(ROW, ROW | {"id": 2}) + "\n" + jsonl(row))
    assert got.startswith("cases/rows.jsonl:4: row 3: no column 'must', which the template uses")
    assert "template: cases/cases.yaml:10" in got
    assert "fix: add 'must' to the row, or correct '${must}' in the template" in got


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ('{"id": 1,\n', "cases/rows.jsonl:1: row 1: not JSON: Expecting property name enclosed in double quotes"),
        ("\n[1, 2]\n", "cases/rows.jsonl:2: row 1 is a JSON list, not an object"),
        ('{"id": 1, "id": 2}\n', "cases/rows.jsonl:1: row 1: not JSON: duplicate key 'id'"),
        ('{"id": NaN}\n', "cases/rows.jsonl:1: row 1: not JSON: NaN is not JSON"),
    ],
)
def test_a_row_that_is_not_a_json_object_is_named_by_line(tmp_path: Path, rows: str, message: str) -> None:
    assert error(tmp_path, CASE_FILE, rows).startswith(message)


def test_a_filled_case_that_fails_validation_names_the_row_and_field(tmp_path: Path) -> None:
    got = error(tmp_path, CASE_FILE, jsonl(ROW, ROW | {"id": 2, "must": 5}))
    assert got.startswith("cases/rows.jsonl:2: row 2: check 'icontains' in case 'q-2': bad argument 5")
    assert "template: cases/cases.yaml:10" in got
    bad_id = error(tmp_path, CASE_FILE, jsonl(ROW | {"id": "no spaces"}))
    assert bad_id.startswith("cases/rows.jsonl:1: row 1: the filled case is invalid: id: String should match")
    assert "template: cases/cases.yaml:8" in bad_id


def test_a_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    got = error(tmp_path, CASE_FILE, jsonl(ROW, ROW))
    assert got.startswith("cases/rows.jsonl:2: row 2: duplicate case id 'q-1' (first at cases/rows.jsonl:1)")


def test_ids_default_to_the_row_number_and_are_text_from_numbers(tmp_path: Path) -> None:
    no_id = CASE_FILE.replace('  id: "q-${{id}}"\n', "")
    assert [c.id for c in resolve(tmp_path, no_id, jsonl(ROW, ROW))] == ["row-1", "row-2"]
    numeric = CASE_FILE.replace('"q-${{id}}"', '"${{id}}"')
    assert [c.id for c in resolve(tmp_path, numeric, jsonl(ROW, ROW | {"id": 7}))] == ["1", "7"]
    by_row = CASE_FILE.replace('"q-${{id}}"', '"n${{_row}}"')
    assert [c.id for c in resolve(tmp_path, by_row, jsonl(ROW, ROW))] == ["n1", "n2"]


def test_marks_come_from_the_defaults_then_the_rows_column(tmp_path: Path) -> None:
    rows = jsonl(ROW | {"marks": ["slow", {"skip": "flaky"}]}, ROW | {"id": 2}, ROW | {"id": 3, "marks": "a, b"})
    assert [c.marks for c in resolve(tmp_path, CASE_FILE, rows)] == [
        ("smoke", "slow", {"skip": "flaky"}),
        ("smoke",),
        ("smoke", "a", "b"),
    ]
    assert "column 'marks' holds 5" in error(tmp_path, CASE_FILE, jsonl(ROW | {"marks": 5}))


CSV = """\
id,course,question,n,sources,must,marks
1,Macro,"What is GDP, really?",3,"[""a/b""]","[""gdp"", ""output""]","slow, smoke"
2,Macro,What is CPI?,007,"[""a/c""]",cpi,
"""


def test_csv_cells_parse_as_json_when_they_are_json(tmp_path: Path) -> None:
    first, second = resolve(tmp_path, CASE_FILE, CSV, "rows.csv")
    assert first.case.input["message"] == "What is GDP, really?"
    assert first.case.input["count"] == 3
    assert first.checks[1:] == (("expected_sources", ["a/b"]), ("icontains", ["gdp", "output"]))
    assert first.marks == ("smoke", "slow", "smoke")
    assert second.case.input["count"] == "007"  # not JSON: stays text
    assert second.checks[1:] == (("expected_sources", ["a/c"]), ("icontains", "cpi"))
    assert second.marks == ("smoke",)


def test_csv_json_cells_can_be_turned_off(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text(CSV, encoding="utf-8")
    rows = read_rows(tmp_path / "rows.csv", "rows.csv", json_cells=False)
    assert rows[0].values["n"] == "3"
    assert [(r.number, r.line) for r in rows] == [(1, 2), (2, 3)]


def test_a_csv_row_with_the_wrong_number_of_cells_is_named_by_line(tmp_path: Path) -> None:
    rows = 'id,course\n1,"multi\nline"\n2,Macro,extra\n'
    got = error(tmp_path, CASE_FILE, rows, "rows.csv")
    assert got.startswith("cases/rows.csv:4: row 2 has 3 cells, the header has 2")


def test_dataset_bounds_and_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harness._model._dataset.MAX_DATASET_ROWS", 2)
    assert error(tmp_path, CASE_FILE, jsonl(ROW, ROW, ROW)).startswith("cases/rows.jsonl:3: more than 2 rows")
    monkeypatch.setattr("harness._model._dataset.MAX_DATASET_BYTES", 10)
    assert error(tmp_path, CASE_FILE, jsonl(ROW)).startswith("cases/rows.jsonl:1: dataset is 0.0 MB; the limit is 0 MB")
    unknown = "cases/cases.yaml:5: dataset cases/rows.txt: unknown dataset format '.txt'"
    assert error(tmp_path, CASE_FILE, "x", "rows.txt").startswith(unknown)
    (tmp_path / "cases.yaml").write_text(CASE_FILE.format(file="missing.jsonl"), encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"^cases/cases.yaml:5: cannot read dataset cases/missing.jsonl: No such"):
        resolve_cases(*parse_case_file(tmp_path / "cases.yaml", "cases/cases.yaml"), "svc")


def test_case_file_keys_for_datasets_are_checked_with_their_line(tmp_path: Path) -> None:
    typo = CASE_FILE.replace("  checks: [{{expected", "  chekcs: [{{expected")
    got = error(tmp_path, typo, jsonl(ROW))
    assert got.startswith("cases/cases.yaml:10: invalid case file: unknown key 'chekcs' at template.chekcs")
    assert "did you mean 'checks'?" in got
    no_template = CASE_FILE.split("template:")[0]
    assert error(tmp_path, no_template, jsonl(ROW)).startswith(
        "cases/cases.yaml:4: invalid case file: 'dataset:' without 'template:'"
    )
    absolute = CASE_FILE.replace("file: {file}", "file: /etc/{file}")
    assert "dataset file '/etc/rows.jsonl' is absolute" in error(tmp_path, absolute, jsonl(ROW))


def test_inline_cases_come_before_the_datasets(tmp_path: Path) -> None:
    both = CASE_FILE + "cases:\n  - id: inline\n    input: {{}}\n"
    assert [c.id for c in resolve(tmp_path, both, jsonl(ROW))] == ["inline", "q-1"]
    assert resolve(tmp_path, both, jsonl(ROW))[1].line == 7  # the template's line, for reports


def test_the_docs_show_the_shipped_dataset_case_file() -> None:
    shipped = (Path(__file__).resolve().parents[2] / "cases" / "studycompanion" / "dataset.yaml").read_text("utf-8")
    assert shipped in code_blocks("how-to/datasets.md", "yaml")
