"""A check registered in a user's conftest, used from a case file, exactly as docs/how-to/custom-checks.md shows it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness._verdict._checks import unregister_check
from tests.support.docs import code_blocks, docs_tables
from tests.support.pytester_project import Project

PAGE = "how-to/custom-checks.md"

# The worked example of docs/how-to/custom-checks.md, verbatim (test_docs_show_the_tested_example keeps them equal).
CONFTEST = '''\
import harness


@harness.check("mentions_course", arg_schema={"oneOf": [{"type": "null"}, {"type": "string"}]})
def mentions_course(ctx, arg):
    """The reply names the course (arg: the name to look for; default: the request's course)."""
    course = arg or ctx.input["course"]
    text = ctx.require_text()
    if course.casefold() not in text.casefold():
        raise harness.CheckFailed(f"expected the reply to name the course {course!r}, got {text[:60]!r}")
'''

CASES = """\
cases:
  - id: refusal-names-the-course
    description: A student told "not in the materials" should learn which course was searched.
    input:
      user_id: u1
      course: Macroeconomics 201
      conversation_id: generated-per-run
      message: Who won the 1998 football World Cup final?
    checks: [refusal, mentions_course]
  - id: answer-names-the-course
    input:
      user_id: u1
      course: Macroeconomics 201
      conversation_id: generated-per-run
      message: Can you explain the difference between nominal and real GDP?
    checks: [mentions_course]
"""

# A check with a bug: chat requests carry no "topic".
BUGGY = '''
@harness.check("names_topic")
def names_topic(ctx, arg):
    """The reply names the topic."""
    if ctx.input["topic"] not in ctx.require_text():
        raise harness.CheckFailed("topic not named")
'''

BUGGY_CASE = """\
  - id: buggy-check
    input: {user_id: u1, course: Macroeconomics 201, conversation_id: generated-per-run, message: "What is GDP?"}
    endpoints: [qa]
    checks: [names_topic]
"""


@pytest.fixture(autouse=True)
def _forget_user_checks() -> Iterator[None]:
    """The registry outlives an in-process pytester run; drop what its conftest registered."""
    yield
    for name in ("mentions_course", "names_topic"):
        unregister_check(name)


def _failed(result: pytest.RunResult) -> set[str]:
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    return {r.nodeid.split("::", 1)[1] for r in reports if r.failed}


def test_custom_check_passes_and_fails_with_the_users_message(project: Project) -> None:
    project.chat_service()
    project.write("conftest.py", CONFTEST)
    project.write("cases/studycompanion/courses.yaml", CASES)
    result = project.pytester.runpytest()
    result.assert_outcomes(passed=4, failed=2)
    assert _failed(result) == {"answer-names-the-course::qa", "answer-names-the-course::prod"}
    result.stdout.fnmatch_lines(
        [
            "*answer-names-the-course::qa*",
            "qa of case 'answer-names-the-course' failed:",
            "mentions_course: expected the reply to name the course 'Macroeconomics 201', got 'Happy to help*",
        ]
    )


def test_a_crashing_user_check_fails_its_item_naming_the_check(project: Project) -> None:
    project.chat_service()
    project.write("conftest.py", CONFTEST + BUGGY)
    project.write("cases/studycompanion/courses.yaml", "cases:\n" + BUGGY_CASE)
    result = project.pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*names_topic: check names_topic crashed: KeyError: 'topic'*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*harness/_*.py:*")


def test_an_unknown_check_name_is_a_file_line_error(project: Project) -> None:
    project.chat_service()
    project.write("conftest.py", CONFTEST)
    project.write(
        "cases/studycompanion/courses.yaml", CASES.replace("[refusal, mentions_course]", "[refusal, mention_course]")
    )
    result = project.pytester.runpytest("--collect-only")
    result.stdout.fnmatch_lines(
        [
            "*courses.yaml:9: unknown check 'mention_course' in case 'refusal-names-the-course'*",
            "*fix: did you mean 'mentions_course'?*",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_a_bad_argument_to_a_user_check_names_the_check_and_the_schema(project: Project) -> None:
    project.chat_service()
    project.write("conftest.py", CONFTEST)
    project.write("cases/studycompanion/courses.yaml", CASES.replace("[mentions_course]", "[{mentions_course: 201}]"))
    result = project.pytester.runpytest("-k", "answer-names-the-course and qa")
    # Caught at collection, with the file and line, before anything is sent.
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "cases/studycompanion/courses.yaml:16: check 'mentions_course' in case 'answer-names-the-course': "
            "bad argument 201: $: 201 is not valid under*"
        ]
    )


def test_docs_show_the_tested_example() -> None:
    blocks = code_blocks(PAGE, "python", "yaml")
    assert CONFTEST in blocks, f"docs/{PAGE}: the conftest example differs from the tested one"
    assert CASES in blocks, f"docs/{PAGE}: the case-file example differs from the tested one"


def test_docs_checks_table_matches_the_registry() -> None:
    table = docs_tables()
    assert table.main(["--check"]) == 0, "the docs' generated tables are stale: run python scripts/docs_tables.py"
    assert "| `llm_judge` | QA and prod, each | {rubric, threshold?, model?} |" in table.render_checks_table()
