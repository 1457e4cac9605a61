from __future__ import annotations

import asyncio
from typing import Any

import pytest

from harness._errors import CheckFailed, HarnessError
from harness._verdict._checks import (
    CheckContext,
    CheckSettings,
    check,
    check_names,
    get_check,
    register_check,
    run_check,
    unregister_check,
)

BUILT_INS = {
    "answer_key_valid", "choices_present", "contains", "equals", "error_shape", "exam_format",
    "expected_sources", "icontains", "json_schema", "latency", "llm_judge", "model_version_equal",
    "no_answer_leak", "no_mojibake", "no_pii", "not_contains", "not_equals", "not_icontains", "not_regex",
    "question_count", "refusal", "regex", "retrieval_miss", "status",
}  # fmt: skip


@pytest.fixture
def scratch_name() -> Any:
    names: list[str] = []
    yield lambda name: names.append(name) or name
    for name in names:
        unregister_check(name)


def test_built_in_checks_are_registered_with_a_doc_and_schema() -> None:
    assert set(check_names()) >= BUILT_INS
    assert check_names() == sorted(check_names())
    for name in BUILT_INS:
        registered = get_check(name)
        assert registered.doc, name
        assert registered.arg_schema is not None, name
    assert get_check("model_version_equal").scope == "pair"
    assert get_check("contains").scope == "side"


def test_unknown_check_raises_key_error_naming_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown check 'nope'.*contains"):
        get_check("nope")


def test_user_check_via_decorator_sync_and_async(check_on: Any, make_outcome: Any, scratch_name: Any) -> None:
    @check(scratch_name("mentions"), arg_schema={"type": "string"})
    def mentions(ctx: CheckContext, arg: Any) -> None:
        """The text mentions the argument."""
        if arg not in (ctx.outcome.text or ""):
            raise CheckFailed(f"expected a mention of {arg!r}")

    @check(scratch_name("slow_ok"))
    async def slow_ok(ctx: CheckContext, arg: Any) -> None:
        await asyncio.sleep(0)
        assert arg == "yes", f"arg was {arg!r}"

    assert get_check("mentions").doc == "The text mentions the argument."
    assert check_on("mentions", "cell", make_outcome("the cell")).passed
    failed = check_on("mentions", "atom", make_outcome("the cell"))
    assert not failed.passed
    assert failed.message == "expected a mention of 'atom'"
    assert failed.duration_s >= 0
    assert check_on("slow_ok", "yes", make_outcome("x")).passed
    assert check_on("slow_ok", "no", make_outcome("x")).message.startswith("arg was 'no'")


def test_duplicate_name_is_an_error_unless_replace(scratch_name: Any) -> None:
    def first(ctx: CheckContext, arg: Any) -> None:
        """First."""

    def second(ctx: CheckContext, arg: Any) -> None:
        """Second."""

    register_check(scratch_name("dup"), first)
    with pytest.raises(HarnessError, match=r"already registered.*replace=True"):
        register_check("dup", second)
    register_check("dup", second, replace=True)
    assert get_check("dup").doc == "Second."
    with pytest.raises(HarnessError, match="already registered"):
        register_check("contains", second)


def test_same_function_registered_again_replaces_itself(scratch_name: Any) -> None:
    # A conftest imported anew (pytester, an IDE re-run) registers the same function again.
    def again(ctx: CheckContext, arg: Any) -> None:
        """Version one."""

    register_check(scratch_name("again"), again)
    first = again

    def again(ctx: CheckContext, arg: Any) -> None:  # type: ignore[no-redef]
        """Version two."""

    assert (first.__module__, first.__qualname__) == (again.__module__, again.__qualname__)
    register_check("again", again)
    assert get_check("again").doc == "Version two."


def test_bad_registration_is_rejected() -> None:
    def fn(ctx: CheckContext, arg: Any) -> None:
        pass

    with pytest.raises(HarnessError, match="name"):
        register_check("has space", fn)
    with pytest.raises(HarnessError, match="not a valid JSON Schema"):
        register_check("bad_schema", fn, arg_schema={"type": 12})


def test_crashing_check_becomes_a_failure_not_an_exception(check_on: Any, make_outcome: Any, scratch_name: Any) -> None:
    @check(scratch_name("buggy"))
    def buggy(ctx: CheckContext, arg: Any) -> None:
        raise ZeroDivisionError("division by zero")

    result = check_on("buggy", None, make_outcome("x"))
    assert not result.passed
    assert result.message == "check buggy crashed: ZeroDivisionError: division by zero"


def test_bad_argument_fails_with_the_schema_reason(check_on: Any, make_outcome: Any) -> None:
    result = check_on("contains", 12, make_outcome("x"))
    assert not result.passed
    assert "check contains: bad argument 12" in result.message
    assert get_check("contains").arg_errors(["a", "b"]) == []
    assert get_check("status").arg_errors("200")


def test_pair_check_without_other_outcome_fails_clearly(make_outcome: Any) -> None:
    ctx = CheckContext("c", "parity", make_outcome("x"), None)
    result = asyncio.run(run_check("model_version_equal", ctx, None))
    assert not result.passed
    assert "only one outcome" in result.message


def test_missing_text_fails_with_status_and_body(check_on: Any, make_outcome: Any) -> None:
    result = check_on("contains", "x", make_outcome(None, status=500, body={"detail": "boom"}))
    assert not result.passed
    assert "expected output text from qa, got none (status 500" in result.message
    assert "boom" in result.message


def test_settings_default_sorry_tokens() -> None:
    assert "sorry" in CheckSettings().sorry_tokens
    assert CheckSettings().judge_base_url is None
