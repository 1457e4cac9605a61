from __future__ import annotations

from typing import Any

from harness._verdict._checks import classify_error_body

FASTAPI_422 = {
    "detail": [
        {
            "type": "less_than_equal",
            "loc": ["body", "num_questions"],
            "msg": "Input should be less than or equal to 50",
            "input": 51,
        }
    ]
}


def test_status(check_on: Any, make_outcome: Any) -> None:
    assert check_on("status", 200, make_outcome("x")).passed
    assert check_on("status", [200, 202], make_outcome("x", status=202)).passed
    result = check_on("status", 422, make_outcome(None, status=500, body={"detail": "Internal error"}))
    assert not result.passed
    assert result.message == 'expected status 422, got 500 with body {"detail": "Internal error"}'
    assert check_on("status", [200, 202], make_outcome(None, status=None)).message == (
        "expected status one of [200, 202], got no response"
    )


def test_error_shape_recognises_the_three_shapes(check_on: Any, make_outcome: Any) -> None:
    for body in (FASTAPI_422, {"detail": "Not authenticated"}, {"error": {"type": "auth", "message": "no"}}):
        result = check_on("error_shape", None, make_outcome(None, status=422, body=body))
        assert result.passed, result.message
    result = check_on("error_shape", None, make_outcome(None, status=500, body={"oops": True}))
    assert not result.passed
    assert result.message.startswith('expected an error body ({"detail": [{"loc", "msg", "type"}, ...]}')
    assert result.message.endswith('got {"oops": true}')
    bad_entry = {"detail": [{"loc": ["body"], "message": "x"}]}
    assert not check_on("error_shape", None, make_outcome(None, status=422, body=bad_entry)).passed


def test_error_shape_pins_loc_kind_and_type(check_on: Any, make_outcome: Any) -> None:
    outcome = make_outcome(None, status=422, body=FASTAPI_422)
    assert check_on("error_shape", {"detail_loc": ["body", "num_questions"]}, outcome).passed
    assert check_on("error_shape", {"kind": "detail_list", "type": "less_than_equal"}, outcome).passed
    wrong_loc = check_on("error_shape", {"detail_loc": ["body", "course_title"]}, outcome)
    assert wrong_loc.message.startswith(
        "expected an error at loc ['body', 'course_title'], got locs ['body', 'num_questions']"
    )
    assert "expected a error_object error body, got detail list" in (
        check_on("error_shape", {"kind": "error_object"}, outcome).message
    )
    assert "expected error type 'missing'" in check_on("error_shape", {"type": "missing"}, outcome).message


def test_classify_error_body_signature_ignores_messages() -> None:
    other_message = {"detail": [dict(FASTAPI_422["detail"][0], msg="different words")]}
    one, two = classify_error_body(FASTAPI_422), classify_error_body(other_message)
    assert one is not None
    assert two is not None
    assert one.signature() == two.signature()
    assert one.describe() == "detail list, loc body.num_questions, type less_than_equal"
    assert classify_error_body([1]) is None


def test_json_schema(check_on: Any, make_outcome: Any) -> None:
    schema = {
        "type": "object",
        "required": ["reply", "sources"],
        "properties": {"reply": {"type": "string"}, "sources": {"type": "array", "items": {"type": "string"}}},
    }
    good = make_outcome("hi", body={"reply": "hi", "sources": ["a"]})
    assert check_on("json_schema", schema, good).passed
    bad = make_outcome("hi", body={"reply": "hi", "sources": ["a", 3]})
    result = check_on("json_schema", schema, bad)
    assert not result.passed
    assert result.message == "body does not match the schema:\n  $.sources[1]: 3 is not of type 'string'"
    missing = check_on("json_schema", schema, make_outcome("hi", body={"reply": "hi"}))
    assert "$: 'sources' is a required property" in missing.message
    invalid = check_on("json_schema", {"type": "nonsense"}, good)
    assert "the json_schema argument is not a valid schema" in invalid.message


def test_latency(check_on: Any, make_outcome: Any) -> None:
    stream = make_outcome("x", delivery="sse", total_s=1.2, ttft_s=0.3)
    assert check_on("latency", {"total_ms": 2000, "ttft_ms": 500}, stream).passed
    result = check_on("latency", {"total_ms": 1000, "ttft_ms": 100}, stream)
    assert not result.passed
    assert result.message == (
        "latency over budget on qa: total 1200 ms > budget 1000 ms; time to first token 300 ms > budget 100 ms"
    )
    # ttft is only measured on streams: a sync outcome is judged on total time alone.
    assert check_on("latency", {"ttft_ms": 100}, make_outcome("x")).passed
    never = check_on("latency", {"ttft_ms": 100}, make_outcome("", delivery="sse", ttft_s=None))
    assert "never produced a first token" in never.message
    assert "bad argument" in check_on("latency", {"total": 5}, stream).message


def test_model_version_equal(check_on: Any, make_outcome: Any) -> None:
    qa = make_outcome("x", metadata={"model_version": "ref-1"})
    prod = make_outcome("x", endpoint="prod", delivery="callback", metadata={"model_version": "ref-1"})
    assert check_on("model_version_equal", None, qa, other=prod).passed
    skewed = make_outcome("x", endpoint="prod", metadata={"model_version": "ref-2"})
    result = check_on("model_version_equal", None, qa, other=skewed)
    assert not result.passed
    assert result.message == (
        "expected the same model_version on both endpoints: qa reports 'ref-1', prod reports 'ref-2'"
    )
    absent = check_on("model_version_equal", None, qa, other=make_outcome("x", endpoint="prod"))
    assert absent.message == "prod reports no model_version (metadata keys: none)"
