"""Numbers that bound time, size or counts: infinity, NaN and absurd values are one error naming file:line,
the key, the value and the allowed range, in case files, datasets, specs, check arguments and options."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from harness._errors import CaseFileError, HarnessUsageError
from harness._model._case import parse_case_file, resolve_cases
from harness._model._limits import MAX_SECONDS
from harness._model._spec import parse_service_spec
from harness._run._options import OPTIONS_BY_DEST

# YAML reads 1.0e+999 and .inf as infinity and .nan as NaN; "1e309" (no dot: a string in YAML 1.1) becomes
# infinity in pydantic's lax mode. Each must be refused, as must a finite value past the bound.
NON_FINITE = ['"1e309"', "1e309", "1.0e+999", ".inf", "-.inf", ".nan", '"nan"']

DAY = "more than 0 and at most 86400 seconds (24 h)"


def case_error(tmp_path: Path, text: str, *, resolve: bool = False) -> str:
    path = tmp_path / "cases.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")

    def load() -> None:
        parsed, doc = parse_case_file(path, "cases/x/cases.yaml")
        if resolve:
            resolve_cases(parsed, doc, "svc")

    with pytest.raises(CaseFileError) as info:
        load()
    return str(info.value)


def spec_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "service.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(CaseFileError) as info:
        parse_service_spec(path, "cases/x/service.yaml")
    return str(info.value)


# ---------------------------------------------------------------- case files


@pytest.mark.parametrize("value", [*NON_FINITE, "0", "-1", str(MAX_SECONDS + 1), "1e12"])
def test_a_case_timeout_that_bounds_nothing_is_refused_with_its_line_and_range(tmp_path: Path, value: str) -> None:
    message = case_error(tmp_path, f"cases:\n  - id: a\n    input: {{}}\n    timeout_s: {value}\n")
    assert message.startswith(
        f"cases/x/cases.yaml:4: invalid case file: cases.0.timeout_s: must be a finite number {DAY}"
    )
    assert f"4 |     timeout_s: {value}" in message
    assert "fix: give a number in that range" in message


def test_the_default_timeout_is_bounded_too(tmp_path: Path) -> None:
    message = case_error(tmp_path, "defaults:\n  timeout_s: .inf\ncases:\n  - id: a\n    input: {}\n")
    assert message.startswith(
        f"cases/x/cases.yaml:2: invalid case file: defaults.timeout_s: must be a finite number {DAY}"
    )
    assert "(got inf)" in message


@pytest.mark.parametrize(
    ("line", "where", "allowed"),
    [
        ("repeat: 1e9", "cases.0.repeat", "from 1 to 100"),
        ("repeat: 101", "cases.0.repeat", "from 1 to 100"),
        ("repeat: .inf", "cases.0.repeat", "from 1 to 100"),
        ("min_pass_rate: .nan", "cases.0.min_pass_rate", "from 0 to 1"),
        ("parity: {level: semantic, threshold: .inf}", "cases.0.parity.threshold", "from 0 to 1"),
        ("parity: {level: semantic, margin: '1e309'}", "cases.0.parity.margin", "from 0 to 1"),
        ("parity: {level: semantic, noise_samples: 1e9}", "cases.0.parity.noise_samples", "from 0 to 20"),
    ],
)
def test_counts_and_fractions_are_finite_and_bounded(tmp_path: Path, line: str, where: str, allowed: str) -> None:
    message = case_error(tmp_path, f"cases:\n  - id: a\n    input: {{}}\n    {line}\n")
    assert message.startswith("cases/x/cases.yaml:4: invalid case file: ")
    assert f"{where}: must be a finite number {allowed}" in message


def test_values_at_the_bounds_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(
        f"cases:\n  - id: a\n    input: {{}}\n    timeout_s: {MAX_SECONDS}\n    repeat: 100\n"
        "    parity: {level: semantic, threshold: 1, noise_samples: 20}\n"
        "  - id: b\n    input: {}\n    timeout_s: '0.5'\n",
        encoding="utf-8",
    )
    parsed, _ = parse_case_file(path, "cases/x/cases.yaml")
    assert [c.timeout_s for c in parsed.cases] == [MAX_SECONDS, 0.5]
    assert parsed.cases[0].repeat == 100


def test_a_check_argument_of_infinity_is_refused(tmp_path: Path) -> None:
    message = case_error(
        tmp_path, "cases:\n  - id: a\n    input: {}\n    checks: [{latency: {total_ms: .inf}}]\n", resolve=True
    )
    assert message.startswith("cases/x/cases.yaml:4: check 'latency' in case 'a': bad argument {'total_ms': inf}")
    assert "numbers must be finite" in message


# ---------------------------------------------------------------- datasets


def test_a_dataset_row_with_an_infinite_timeout_names_the_row_and_the_template(tmp_path: Path) -> None:
    # JSON has no infinity, but Python's parser reads 1e309 as one.
    rows = json.dumps({"t": 1}) + "\n" + '{"t": 1e309}\n'
    (tmp_path / "rows.jsonl").write_text(rows, encoding="utf-8")
    message = case_error(
        tmp_path,
        "dataset: {file: rows.jsonl}\ntemplate:\n  input: {}\n  timeout_s: ${t}\n",
        resolve=True,
    )
    assert message.startswith("cases/x/rows.jsonl:2: row 2: the filled case is invalid: timeout_s: must be a finite")
    assert "(got inf)" in message
    assert "template: cases/x/cases.yaml:4" in message


# ---------------------------------------------------------------- specs

POLL_SPEC = """\
service: s
qa: {{path: /qa, delivery: sync}}
prod:
  path: /submit
  delivery: poll
  poll:
    job_id: /id
    status: {{path: "/jobs/{{id}}", pointer: /status, success: [done]}}
    result: {{path: "/jobs/{{id}}/result", not_ready: [{status}]}}
    interval_s: {interval}
"""


@pytest.mark.parametrize("interval", [*NON_FINITE, "0", "1e6"])
def test_a_poll_interval_is_finite_and_at_most_a_day(tmp_path: Path, interval: str) -> None:
    message = spec_error(tmp_path, POLL_SPEC.format(interval=interval, status=404))
    assert message.startswith(
        f"cases/x/service.yaml:10: invalid service spec: prod.poll.interval_s: must be a finite number {DAY}"
    )


def test_not_ready_statuses_are_http_statuses(tmp_path: Path) -> None:
    message = spec_error(tmp_path, POLL_SPEC.format(interval=0.1, status="1e309"))
    assert message.startswith("cases/x/service.yaml:9: invalid service spec: prod.poll.result.not_ready.0: must be")
    assert "from 100 to 599" in message


@pytest.mark.parametrize("count", ["1e9", ".inf", "0", "1001"])
def test_the_negative_case_count_is_bounded(tmp_path: Path, count: str) -> None:
    text = (
        "service: s\nqa: {path: /qa, delivery: sync}\nprod: {path: /p, delivery: sync}\n"
        f"negative:\n  schema: openapi\n  count: {count}\n"
    )
    message = spec_error(tmp_path, text)
    assert message.startswith(
        "cases/x/service.yaml:6: invalid service spec: negative.count: must be a finite number from 1 to 1000"
    )


# ---------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("dest", "raw", "message"),
    [
        ("harness_timeout", "1e309", "--harness-timeout must be a finite number, got '1e309'"),
        ("harness_timeout", "1e9", "--harness-timeout must be at most 86400, got '1e9'"),
        ("harness_concurrency", "1e309", "--harness-concurrency must be a number, got '1e309'"),
        ("harness_concurrency", "100000", "--harness-concurrency must be at most 1024, got '100000'"),
        ("harness_repeat", "1000", "--harness-repeat must be at most 100, got '1000'"),
        ("harness_seed", "99999999999999999999", "--harness-seed must be at most 4.29497e+09"),
        ("reference_model_latency_ms", "inf", "--reference-model-latency-ms must be a finite number, got 'inf'"),
        ("reference_model_latency_ms", "1e12", "--reference-model-latency-ms must be at most 600000"),
        ("harness_max_response_size", "1e309", "--harness-max-response-size must be a finite size from 1KB to 1GB"),
        ("harness_max_response_size", "5000GB", "--harness-max-response-size must be a finite size from 1KB to 1GB"),
        ("harness_latency_tolerance", "inf", "--harness-latency-tolerance must be a non-negative fraction"),
        ("harness_latency_tolerance", "1e9%", "--harness-latency-tolerance must be a non-negative fraction"),
    ],
)
def test_option_parsers_refuse_non_finite_and_absurd_values(dest: str, raw: str, message: str) -> None:
    option = OPTIONS_BY_DEST[dest]
    with pytest.raises(HarnessUsageError) as info:
        option.parse(raw, option.display)
    assert str(info.value).startswith(message)


def test_option_messages_state_the_allowed_range() -> None:
    option = OPTIONS_BY_DEST["harness_timeout"]
    with pytest.raises(HarnessUsageError, match=r"\(allowed: 0.001 to 86400\)"):
        option.parse("nan", option.display)
    assert option.parse("86400", option.display) == 86400.0
