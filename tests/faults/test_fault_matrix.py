"""The fault matrix: every reference-service fault fails exactly the items, by check, that fault_matrix.yaml names.

Each test runs the case suite in this process (``tests.support.case_suite.run_suite``) against services started
with one fault.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reference_services import FAULTS
from tests.faults.regenerate import DOC_PATH, MATRIX_PATH, docs_table, load_matrix, render_table
from tests.support.case_suite import SuiteRun, run_suite

MATRIX = load_matrix()
RECORD_HINT = (
    "if the change is intended, run `python -m tests.faults.regenerate --record` "
    f"and review `git diff {MATRIX_PATH.name}`"
)


def describe_difference(expected: dict[str, list[str]], actual: dict[str, list[str]]) -> str:
    """One line per item whose failure differs from the matrix."""
    lines = []
    for item in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(item), actual.get(item)
        if want == got:
            continue
        if want is None:
            lines.append(f"  + {item} fails, not in the matrix: {got}")
        elif got is None:
            lines.append(f"  - {item} passed, the matrix expects: {want}")
        else:
            lines.append(f"  ~ {item} fails with {got}, the matrix expects {want}")
    return "\n".join(lines)


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_fails_exactly_the_recorded_items(fault: str, tmp_path: Path) -> None:
    assert fault in MATRIX, f"{fault!r} has no entry in {MATRIX_PATH.name}; {RECORD_HINT}"
    expected: dict[str, list[str]] = MATRIX[fault]["failing"]
    actual = run_suite([fault], tmp_path).failures
    assert actual == expected, (
        f"with fault {fault!r} the case suite fails differently from {MATRIX_PATH.name}:\n"
        f"{describe_difference(expected, actual)}\n{RECORD_HINT}"
    )


def test_every_fault_has_an_entry_and_is_caught() -> None:
    assert sorted(MATRIX) == sorted(FAULTS), (
        f"faults missing from {MATRIX_PATH.name}: {sorted(FAULTS.keys() - MATRIX.keys())}; "
        f"entries for unknown faults: {sorted(MATRIX.keys() - FAULTS.keys())}; {RECORD_HINT}"
    )
    stale = [fault for fault, entry in MATRIX.items() if entry["symptom"] != FAULTS[fault]]
    assert not stale, f"symptoms differ from reference_services.FAULTS for {stale}; {RECORD_HINT}"
    uncaught = [fault for fault, entry in MATRIX.items() if not entry["failing"]]
    assert not uncaught, f"faults no case catches: {uncaught}; add a case that shows their symptom"


def _runs_passed(record: dict[str, object]) -> bool:
    runs = record["runs"]
    assert isinstance(runs, list)
    return all(run["passed"] for run in runs)


@pytest.mark.slow
def test_no_fault_everything_passes_over_repeats(tmp_path: Path) -> None:
    run: SuiteRun = run_suite([], tmp_path, repeat=3)
    assert run.failures == {}, f"with no fault these items fail (crying wolf):\n{describe_difference({}, run.failures)}"
    assert run.passed, "no item ran"
    assert sorted(run.records) == sorted(run.passed)
    not_repeated = {item: r["repeats"] for item, r in run.records.items() if r["repeats"] != 3}
    assert not not_repeated, f"items that did not run 3 times: {not_repeated}"
    flaky = [item for item, r in run.records.items() if not _runs_passed(r)]
    assert not flaky, f"items that failed in some repeat: {flaky}"


def test_docs_fault_table_matches_the_matrix() -> None:
    table = docs_table(DOC_PATH.read_text(encoding="utf-8"))
    assert table == render_table(MATRIX), (
        f"the fault table in {DOC_PATH.name} is stale; run `python -m tests.faults.regenerate` to re-render it"
    )
