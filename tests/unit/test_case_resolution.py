"""Case files resolved at collection: arguments checked, a case's check replaces a default of the same name,
default pair checks skip single-endpoint cases, and messages that name the missing key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness._errors import CaseFileError
from harness._model._case import ResolvedCase, parse_case_file, resolve_cases


def resolve(tmp_path: Path, text: str) -> list[ResolvedCase]:
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    parsed, doc = parse_case_file(path, "cases.yaml")
    return resolve_cases(parsed, doc, "svc")


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(CaseFileError) as info:
        resolve(tmp_path, text)
    return str(info.value)


@pytest.mark.parametrize(
    ("check", "line", "message"),
    [
        ('{status: "two hundred"}', 4, "check 'status' in case 'a': bad argument 'two hundred'"),
        ('{regex: "(["}', 4, "check 'regex' in case 'a': bad argument '([': $: '([' is not a 'regex'"),
        ('{not_regex: [ok, "a)"]}', 4, "$[1]: 'a)' is not a 'regex'"),
    ],
)
def test_check_arguments_are_validated_at_collection_with_file_and_line(
    tmp_path: Path, check: str, line: int, message: str
) -> None:
    text = f"cases:\n  - id: a\n    input: {{}}\n    checks: [{check}]\n"
    got = error(tmp_path, text)
    assert got.startswith(f"cases.yaml:{line}: ")
    assert message in got


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    got = error(tmp_path, "cases:\n  - input: {a: 1}\n")
    assert got.startswith("cases.yaml:2: invalid case file: missing required key 'id' at cases.0")
    assert "fix: add 'id:'" in got


def checks_of(case: ResolvedCase) -> list[tuple[str, Any]]:
    return list(case.checks)


def test_a_case_check_replaces_the_default_check_of_the_same_name(tmp_path: Path) -> None:
    (case,) = resolve(
        tmp_path,
        "defaults:\n  checks: [{status: 422}, error_shape]\n"
        "cases:\n  - id: no-token\n    input: {}\n    checks: [{status: 401}]\n",
    )
    assert checks_of(case) == [("error_shape", None), ("status", 401)]


def test_default_pair_checks_do_not_apply_to_a_single_endpoint_case(tmp_path: Path) -> None:
    qa_only, both = resolve(
        tmp_path,
        "defaults:\n  checks: [exam_format, model_version_equal]\n"
        "cases:\n  - id: qa-only\n    input: {}\n    endpoints: [qa]\n  - id: both\n    input: {}\n",
    )
    assert checks_of(qa_only) == [("exam_format", None)]
    assert checks_of(both) == [("exam_format", None), ("model_version_equal", None)]
    # Named by the case itself, a pair check on one endpoint is still a contradiction.
    got = error(tmp_path, "cases:\n  - id: a\n    input: {}\n    endpoints: [qa]\n    checks: [model_version_equal]\n")
    assert "uses pair check(s) ['model_version_equal'] but calls only ['qa']" in got
