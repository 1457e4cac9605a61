"""The report engine on synthetic records: totals, run record, summary.md, terminal lines, baselines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness._errors import HarnessUsageError
from harness._run._options import OPTIONS_BY_DEST
from harness._report.baseline import compare_with_baseline, load_baseline
from harness._report.render import render_summary_md, terminal_lines
from harness._report.run import RunCollector, build_run_record, percentile

CASE = "cases/exam/bio.yaml::{id}"


def side_record(
    case_id: str,
    part: str,
    *,
    passed: bool = True,
    total_s: float = 0.05,
    ttft_s: float | None = None,
    problems: list[dict[str, str]] | None = None,
    delivery: str = "sync",
    check_message: str = "",
) -> dict[str, Any]:
    checks = [
        {"name": "exam_format", "passed": passed or bool(problems), "message": check_message, "duration_s": 0.001}
    ]
    outcome = {
        "endpoint": part,
        "delivery": delivery,
        "status": 200,
        "text": "1. Q",
        "total_s": total_s,
        "ttft_s": ttft_s,
        "ack_s": None,
        "problems": problems or [],
        "request": {},
        "transcript": [],
    }
    return {
        "case": CASE.format(id=case_id),
        "case_id": case_id,
        "file": "cases/exam/bio.yaml",
        "line": 3,
        "service": "exam",
        "part": part,
        "passed": passed,
        "reason": ""
        if passed
        else (f"{problems[0]['kind']}: {problems[0]['message']}" if problems else f"exam_format: {check_message}"),
        "pass_rate": 1.0 if passed else 0.0,
        "min_pass_rate": 1.0,
        "repeats": 1,
        "checks": ["exam_format"],
        "runs": [{"passed": passed, "error": None, "turns": [{"outcome": outcome, "checks": checks}]}],
    }


def parity_record(case_id: str, *, passed: bool = True) -> dict[str, Any]:
    report = {"level": "structural", "passed": passed, "summary": "same" if passed else "qa has choices, prod none"}
    return {
        **{k: v for k, v in side_record(case_id, "qa").items() if k != "runs"},
        "part": "parity",
        "passed": passed,
        "reason": "" if passed else f"structural parity failed: {report['summary']}",
        "pass_rate": 1.0 if passed else 0.0,
        "runs": [{"passed": passed, "blocked": None, "reports": [report], "checks": []}],
    }


def add_case(collector: RunCollector, case_id: str, records: dict[str, dict[str, Any]]) -> None:
    for part, record in records.items():
        nodeid = f"{CASE.format(id=case_id)}::{part}"
        collector.add(nodeid, "", duration_s=0.01)  # setup
        collector.add(nodeid, "passed" if record["passed"] else "failed", duration_s=0.1, record=record)
        collector.add(nodeid, "", duration_s=0.01)  # teardown


def sample_run(*, prod_passes: bool = True, prod_total_s: float = 0.05) -> dict[str, Any]:
    collector = RunCollector()
    add_case(
        collector,
        "a",
        {
            "qa": side_record("a", "qa", total_s=0.04),
            "prod": side_record(
                "a",
                "prod",
                passed=prod_passes,
                total_s=prod_total_s,
                delivery="callback",
                problems=[] if prod_passes else [{"kind": "callback_duplicate", "message": "delivered 2 times"}],
            ),
            "parity": parity_record("a", passed=prod_passes),
        },
    )
    add_case(
        collector,
        "b",
        {"qa": side_record("b", "qa", total_s=0.2), "prod": side_record("b", "prod", delivery="callback")},
    )
    # An item that errored in setup (service unreachable): no record, only the report.
    collector.add(
        f"{CASE.format(id='b')}::parity",
        "error",
        message="examgenerator unreachable",
        info={"case": CASE.format(id="b"), "case_id": "b", "service": "exam", "part": "parity"},
    )
    collector.add("tests/test_other.py::test_x", "passed")
    return build_run_record(collector, target="http://svc", created_at="2024-01-01T00:00:00+00:00")


def test_totals_count_reports_like_pytest_and_cases_only_harness_items() -> None:
    run = sample_run(prod_passes=False)
    assert run["totals"] == {"passed": 4, "failed": 2, "error": 1, "skipped": 0, "xfailed": 0, "xpassed": 0}
    assert [c["case_id"] for c in run["cases"]] == ["a", "b"]
    parts = run["cases"][1]["parts"]
    assert parts["parity"] == {
        "nodeid": f"{CASE.format(id='b')}::parity",
        "outcome": "error",
        "duration_s": 0.0,
        "reason": "examgenerator unreachable",
    }
    prod = run["cases"][0]["parts"]["prod"]
    assert prod["outcome"] == "failed"
    assert prod["reason"] == "callback_duplicate: delivered 2 times"
    assert prod["problems"] == {"callback_duplicate": 1}


def test_a_teardown_error_after_a_pass_makes_the_item_an_error() -> None:
    collector = RunCollector()
    collector.add("x.yaml::a::qa", "passed", record=side_record("a", "qa"))
    collector.add("x.yaml::a::qa", "error", message="teardown broke")
    assert collector.items["x.yaml::a::qa"].outcome == "error"
    assert collector.totals == {"passed": 1, "error": 1}


def test_endpoint_stats_rates_latency_and_callback_problems() -> None:
    run = sample_run(prod_passes=False, prod_total_s=0.3)
    stats = {(s["service"], s["endpoint"]): s for s in run["endpoints"]}
    assert list(stats) == [("exam", "qa"), ("exam", "prod"), ("exam", "parity")]
    assert stats["exam", "prod"]["pass_rate"] == 0.5
    assert stats["exam", "prod"]["callback_duplicates"] == 1
    assert stats["exam", "parity"]["pass_rate"] == 0.0  # one failed, one errored
    assert stats["exam", "qa"]["latency_p50_s"] == 0.04
    assert stats["exam", "qa"]["latency_p95_s"] == 0.2


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(n) for n in range(1, 101)], 95) == 95.0


def test_summary_md_table_and_failing_cases() -> None:
    md = render_summary_md(sample_run(prod_passes=False))
    assert md.startswith("## ❌ qa-harness: 2 failed, 4 passed, 1 error")
    assert "| exam | prod (callback) | 50.0% (1/2) | - |" in md
    assert "| exam | parity | - | 0% (0/2) |" in md
    assert "| `cases/exam/bio.yaml::a` | parity | failed | structural parity failed: qa has choices, prod none |" in md
    assert "| `cases/exam/bio.yaml::b` | parity | error | examgenerator unreachable |" in md
    assert render_summary_md(sample_run()).startswith("## ❌")  # the error item still fails the run


def test_summary_md_escapes_pipes_in_reasons() -> None:
    collector = RunCollector()
    collector.add("x.yaml::a::qa", "failed", message="a | b\nsecond line", info={"case": "x::a", "part": "qa"})
    md = render_summary_md(build_run_record(collector))
    assert "a \\| b" in md


def test_terminal_lines_table_and_slowest() -> None:
    lines = terminal_lines(sample_run(prod_total_s=0.5))
    assert lines[0].split() == [
        "service",
        "endpoint",
        "pass",
        "parity",
        "p50",
        "p95",
        "ttft",
        "p50",
        "ttft",
        "p95",
        "dup",
        "late",
    ]
    assert any(line.startswith("exam") and "prod (callback)" in line and "100% (2/2)" in line for line in lines)
    slow_at = lines.index("slowest 4:")
    assert "cases/exam/bio.yaml::a [prod]" in lines[slow_at + 1]
    assert "500 ms" in lines[slow_at + 1]


def test_baseline_flags_newly_failing_parts_and_parity() -> None:
    regressions = compare_with_baseline(sample_run(prod_passes=False), sample_run())
    assert [(r.kind, r.case, r.part) for r in regressions] == [
        ("failed", "cases/exam/bio.yaml::a", "prod"),
        ("parity", "cases/exam/bio.yaml::a", "parity"),
    ]
    assert "passed in the baseline, now callback_duplicate" in regressions[0].detail
    assert compare_with_baseline(sample_run(), sample_run()) == []
    # Failing in both runs is not a regression.
    assert compare_with_baseline(sample_run(prod_passes=False), sample_run(prod_passes=False)) == []


@pytest.mark.parametrize(
    ("before", "after", "tolerance", "regressed"),
    [
        (0.2, 0.5, 0.5, True),  # +150 %, +300 ms
        (0.2, 0.29, 0.5, False),  # within 50 %
        (0.2, 0.35, 1.0, False),  # within a 100 % tolerance
        (0.01, 0.05, 0.5, False),  # +400 % but only 40 ms: noise
    ],
)
def test_baseline_latency_tolerance(before: float, after: float, tolerance: float, regressed: bool) -> None:
    regressions = compare_with_baseline(
        sample_run(prod_total_s=after), sample_run(prod_total_s=before), latency_tolerance=tolerance
    )
    assert [(r.kind, r.part) for r in regressions] == ([("latency", "prod")] if regressed else [])


def test_parse_tolerance() -> None:
    option = OPTIONS_BY_DEST["harness_latency_tolerance"]
    assert option.parse("50%", option.display) == 0.5
    assert option.parse("0.25", option.display) == 0.25
    for bad in ("fast", "-5%", "nan"):
        with pytest.raises(HarnessUsageError, match=r"e\.g\. --harness-latency-tolerance 50%"):
            option.parse(bad, option.display)


def test_load_baseline_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(HarnessUsageError, match="no such file; save one with --harness-save-baseline"):
        load_baseline(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(HarnessUsageError, match="not JSON"):
        load_baseline(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"cases": []}')
    with pytest.raises(HarnessUsageError, match="not a qa-harness run record"):
        load_baseline(tmp_path / "other.json")
    (tmp_path / "good.json").write_text(json.dumps(sample_run()))
    assert load_baseline(tmp_path / "good.json")["totals"]["passed"] == 6


def _case(repeat_runs: int = 1) -> Any:
    from harness._model._case import Case, ParitySpec, ResolvedCase

    return ResolvedCase(
        file="cases/exam/bio.yaml",
        line=3,
        service="exam",
        case=Case(id="a", input={}),
        checks=(("exam_format", None),),
        turns=((None, ()),),
        parity=ParitySpec(),
        repeat=repeat_runs,
        min_pass_rate=1.0,
        timeout_s=None,
        marks=(),
        headers={},
    )


def test_the_record_reason_is_the_first_line_of_the_item_failure() -> None:
    from harness._verdict._checks import CheckResult
    from harness._delivery._outcome import Outcome, Problem
    from harness._verdict._parity import ParityReport
    from harness._report.records import part_record
    from harness._run._results import CaseResult, CaseRun, ParityRun, SideRun, TurnResult

    def side(endpoint: str, passed: bool) -> SideRun:
        outcome = Outcome(endpoint=endpoint, delivery="sync", status=200, text="1. Q")
        if not passed and endpoint == "prod":
            outcome.problems.append(Problem("callback_duplicate", "delivered 2 times"))
        check = CheckResult("exam_format", passed, "" if passed else "3 questions, expected 5", 0.001)
        return SideRun(endpoint=endpoint, turns=[TurnResult(outcome=outcome, checks=[check])])

    parity = ParityRun(reports=[ParityReport(level="structural", passed=False, summary="qa has choices, prod none")])
    failing = CaseRun(sides={"qa": side("qa", False), "prod": side("prod", False)}, parity=parity)
    passing = CaseRun(sides={"qa": side("qa", True), "prod": side("prod", True)}, parity=ParityRun())

    result = CaseResult(case=_case(), runs=[failing])
    assert part_record(result, "qa")["reason"] == "exam_format: 3 questions, expected 5"
    assert part_record(result, "prod")["reason"] == "callback_duplicate: delivered 2 times"
    assert part_record(result, "parity")["reason"] == "structural parity failed: qa has choices, prod none"
    assert result.failure("qa").splitlines()[0] == part_record(result, "qa")["reason"]

    repeated = CaseResult(case=_case(2), runs=[passing, failing])
    record = part_record(repeated, "qa")
    assert record["reason"] == "(repeat 2) exam_format: 3 questions, expected 5"
    assert repeated.failure("qa").splitlines() == [
        "pass rate 50% over 2 runs, below min_pass_rate 100%",
        "(repeat 2) exam_format: 3 questions, expected 5",
    ]
    assert part_record(CaseResult(case=_case(), runs=[passing]), "qa")["reason"] == ""
