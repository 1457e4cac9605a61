"""Collection of case files: item ids, marks, selection, and bad files stopping collection clearly."""

from __future__ import annotations

import pytest

from tests.support.pytester_project import Project

GOOD = """\
defaults:
  checks: [exam_format, question_count]
cases:
  - id: cell-structure-5
    input: {course_title: Biology, course_topic: Cells, num_questions: 5}
    marks: [smoke]
  - id: qa-only
    endpoints: [qa]
    input: {course_title: Biology, course_topic: Cells, num_questions: 1}
  - id: skipped
    input: {course_title: Biology, course_topic: Cells, num_questions: 1}
    marks: [{skip: not ready}]
"""


def test_each_case_yields_qa_prod_and_parity_items(project: Project) -> None:
    project.exam_service()
    project.write("cases/examgenerator/biology.yaml", GOOD)
    result = project.pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "cases/examgenerator/biology.yaml::cell-structure-5::qa",
            "cases/examgenerator/biology.yaml::cell-structure-5::prod",
            "cases/examgenerator/biology.yaml::cell-structure-5::parity",
            "cases/examgenerator/biology.yaml::qa-only::qa",
            "cases/examgenerator/biology.yaml::skipped::qa",
        ]
    )
    assert "qa-only::prod" not in result.stdout.str()
    assert "qa-only::parity" not in result.stdout.str()
    assert result.ret == 0


def test_keyword_and_mark_selection(project: Project) -> None:
    project.exam_service()
    project.write("cases/examgenerator/biology.yaml", GOOD)
    by_mark = project.pytester.runpytest("--collect-only", "-q", "-m", "smoke")
    by_mark.stdout.fnmatch_lines(["*3/7 tests collected (4 deselected)*"])
    by_keyword = project.pytester.runpytest("--collect-only", "-q", "-k", "parity")
    by_keyword.stdout.fnmatch_lines(["*2/7 tests collected (5 deselected)*"])


def test_skip_mark_from_case_file(project: Project) -> None:
    project.exam_service()
    project.write("cases/examgenerator/biology.yaml", GOOD)
    result = project.pytester.runpytest("-k", "skipped", "-rs")
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(["*not ready*"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "cases:\n  - id: a\n    input: {course_title: x\n",
            ["*biology.yaml:4: YAML syntax error*flow mapping that started at line 3*", "*fix: check indentation*"],
        ),
        (
            "cases:\n  - id: a\n    chekcs: [exam_format]\n",
            [
                "*biology.yaml:3: invalid case file: unknown key 'chekcs' at cases.0.chekcs",
                "*3 |     chekcs: *",
                "*fix: did you mean 'checks'?",
            ],
        ),
        (
            "cases:\n  - id: a\n    repeat: many\n",
            ["*biology.yaml:3: invalid case file: cases.0.repeat: Input should be a valid integer*(got 'many')"],
        ),
        (
            "cases:\n  - id: a\n    checks: [exam_fromat]\n",
            ["*biology.yaml:3: unknown check 'exam_fromat' in case 'a'*", "*fix: did you mean 'exam_format'?*"],
        ),
        (
            "service: nosuch\ncases:\n  - id: a\n",
            ["*no service spec for nosuch (known: examgenerator)*"],
        ),
        (
            "cases:\n  - id: a\n  - id: a\n",
            ["*biology.yaml:3: duplicate case id 'a' (first at line 2)*"],
        ),
        (
            "cases:\n  - id: a\n    parity: fuzzy\n",
            ["*biology.yaml:3: invalid case file: * problems", "*line 3: cases.0.parity*'fuzzy'*"],
        ),
        (
            "cases:\n  - id: a\n    checks: [exam_format]\n    checks: [status]\n",
            ["*biology.yaml:4: YAML syntax error*duplicate key 'checks' (first at line 3)*"],
        ),
    ],
    ids=[
        "yaml-syntax",
        "unknown-key",
        "wrong-type",
        "unknown-check",
        "unknown-service",
        "duplicate-id",
        "bad-parity-level",
        "duplicate-key",
    ],
)
def test_bad_case_file_stops_collection_with_file_line_and_fix(
    project: Project, text: str, expected: list[str]
) -> None:
    project.exam_service()
    project.write("cases/examgenerator/biology.yaml", text)
    result = project.pytester.runpytest("--collect-only")
    result.stdout.fnmatch_lines(expected)
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*harness/_*.py:*")
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_bad_service_spec_names_the_key(project: Project) -> None:
    project.write(
        "cases/examgenerator/service.yaml",
        "service: examgenerator\nqa: {path: /qa, delivery: carrier-pigeon}\nprod: {path: /p, delivery: sync}\n",
    )
    project.write("cases/examgenerator/biology.yaml", "cases:\n  - id: a\n")
    result = project.pytester.runpytest("--collect-only")
    result.stdout.fnmatch_lines(
        [
            "*service.yaml:2: invalid service spec: qa.delivery: Input should be 'sync', 'callback', 'sse' or 'poll'"
            "*carrier-pigeon*"
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--harness-concurrency", "zero"], "*--harness-concurrency must be a number*--harness-concurrency 8*"),
        (["--harness-concurrency", "0"], "*--harness-concurrency must be at least 1*"),
        (["--harness-timeout", "-1"], "*--harness-timeout must be at least*"),
        (["--base-url", "ftp://x"], "*--base-url must be an http(s) URL*"),
        (["--harness-callback-url", "/relative"], "*--harness-callback-url must be an absolute http(s) URL*"),
        (
            ["--base-url", "http://127.0.0.1:9", "--reference-faults", "pii_leak"],
            "*--reference-faults and --reference-model-latency-ms configure the in-process*drop one of them*",
        ),
    ],
)
def test_bad_option_is_a_usage_error_naming_the_fix(project: Project, args: list[str], message: str) -> None:
    result = project.pytester.runpytest(*args)
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_ini_case_paths_and_ini_twins(project: Project) -> None:
    project.pytester.makeini("[pytest]\nharness_case_paths = suites\nharness_concurrency = 3\n")
    project.write(
        "suites/exam/service.yaml",
        "service: examgenerator\nqa: {path: /qa, delivery: sync}\nprod: {path: /p, delivery: sync}\n",
    )
    project.write("suites/exam/a.yaml", "cases:\n  - id: a\n")
    project.write("cases/ignored.yaml", "not: [valid")
    result = project.pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["suites/exam/a.yaml::a::qa", "*3 tests collected*"])
    header = project.pytester.runpytest("--collect-only")
    header.stdout.fnmatch_lines(["*qa-harness: target in-process reference services, concurrency 3*"])


def test_cases_of_the_in_process_model_are_skipped_against_a_deployed_target(project: Project) -> None:
    project.write(
        "cases/reference-model/service.yaml",
        "service: reference-model\npreset: openai-chat\nbase_url: local:model\n",
    )
    project.write(
        "cases/reference-model/chat.yaml",
        "cases:\n  - id: hello\n    input: {model: reference-model, messages: [{role: user, content: hi}]}\n",
    )
    result = project.run("--base-url", "http://127.0.0.1:9", "-rs")
    result.assert_outcomes(skipped=3)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*base_url local:model is the in-process reference model, which is not started*"])


def test_collected_objects_leave_the_garbage_collector_for_the_session_and_return_after(project: Project) -> None:
    # Every full collection of the run (and the two pytest makes at its end) would rescan all the collected
    # nodes and cases; frozen, they are skipped. An in-process run must not keep them frozen afterwards.
    import gc

    project.write(
        "tests/test_frozen.py",
        "import gc\n\ndef test_frozen():\n    assert gc.get_freeze_count() > 0, 'collection left nothing frozen'\n",
    )
    result = project.pytester.runpytest_inprocess("tests/test_frozen.py")
    result.assert_outcomes(passed=1)
    assert gc.get_freeze_count() == 0  # thawed (this outer session's frozen objects too: harmless)


def test_the_frozen_objects_stay_frozen_only_when_the_process_ends_with_the_session(project: Project) -> None:
    # Thawing them just before the interpreter exits only makes its last collections rescan them all.
    project.write(
        "conftest.py",
        "from harness.plugin import _process_ends_with_session\n\n"
        "def pytest_sessionfinish(session):\n"
        "    print('process ends with the session:', _process_ends_with_session(session.config))\n",
    )
    project.write("tests/test_one.py", "def test_one():\n    pass\n")
    by_command_line = project.pytester.runpytest_subprocess("-s", "tests")
    by_command_line.stdout.fnmatch_lines(["*process ends with the session: True*"])
    in_process = project.pytester.runpytest_inprocess("-s", "tests")
    in_process.stdout.fnmatch_lines(["*process ends with the session: False*"])
