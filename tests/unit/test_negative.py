"""Negative-case generation: the mutations, the drawn bodies, reproducibility and the ready-to-paste case."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import jsonschema
import pytest
import yaml

from harness._errors import HarnessError
from harness._model._case import Case
from harness._run._negative import ChildDraw, generate, mutations, openapi_request_schema

PERSON: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "age"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 20},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "score": {"type": "number", "exclusiveMaximum": 1},
    },
}


def test_every_way_to_break_a_body_kinds_first() -> None:
    found = mutations(PERSON)
    assert [m.what for m in found] == [
        "missing required field 'name'",
        "'name' is not of type string",
        "'name' shorter than 1",
        "'name' longer than 20",
        "'age' below its minimum (0)",
        "forbidden extra field 'unexpected_field'",
        "malformed JSON (a valid body cut short)",
        "a valid body sent as Content-Type: text/plain",
        "missing required field 'age'",
        "'age' is not of type integer",
        "'age' above its maximum (150)",
        "'score' is not of type number",
        "'score' at or above its exclusive maximum (1)",
    ]


def test_drawn_bodies_are_invalid_and_reproducible() -> None:
    requests = generate(PERSON, 40, seed=5)
    assert [r.index for r in requests] == list(range(40))
    validator = jsonschema.Draft202012Validator(PERSON)
    for request in requests:
        if request.what.startswith("malformed JSON"):
            with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
                json.loads(request.raw_body)
            continue
        assert json.loads(request.raw_body) == request.body
        if request.headers:
            assert request.headers == {"Content-Type": "text/plain"}
            assert validator.is_valid(request.body)  # the body is fine: the content type is what is wrong
        else:
            assert not validator.is_valid(request.body), request.what
    assert [r.raw_body for r in generate(PERSON, 40, seed=5)] == [r.raw_body for r in requests]
    assert [r.raw_body for r in generate(PERSON, 40, seed=6)] != [r.raw_body for r in requests]
    # the seed picks bodies, not what is broken
    assert [(r.kind, r.field) for r in generate(PERSON, 40, seed=6)] == [(r.kind, r.field) for r in requests]
    assert len({r.raw_body for r in requests}) > 30  # later rounds draw new bodies, not the first ones again


def test_the_pasted_case_is_a_valid_case_with_the_same_request() -> None:
    for request in generate(PERSON, 13, seed=1):
        entry = yaml.safe_load(request.case_yaml())[0]
        case = Case.model_validate(entry)
        assert case.id == f"negative-{request.index}"
        assert case.checks == ["rejected", "error_shape"]
        if case.input is not None:
            assert case.input == request.body
        else:
            assert case.raw_body == request.raw_body
        assert case.headers == request.headers


def test_a_conversation_id_that_is_the_point_is_pasted_as_raw_bytes() -> None:
    schema = {"type": "object", "required": ["conversation_id"], "properties": {"conversation_id": {"type": "string"}}}
    wrong_type = next(r for r in generate(schema, 4, seed=1) if r.kind == "wrong_type")
    # The runner replaces an input's conversation id per run, which would repair the broken value.
    assert "raw_body:" in wrong_type.case_yaml("conversation_id")
    assert "input:" in wrong_type.case_yaml(None)


# Open to extra properties (no additionalProperties: false), with optional fields and a nested object: what a
# FastAPI model without extra="forbid" publishes. The draw used to fill such bodies with random keys.
OPEN_ORDER: dict[str, Any] = {
    "type": "object",
    "required": ["sku", "quantity", "address"],
    "properties": {
        "sku": {"type": "string", "minLength": 3, "maxLength": 8},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 99},
        "note": {"type": "string"},
        "gift": {"type": "boolean"},
        "address": {
            "type": "object",
            "required": ["city"],
            "properties": {"city": {"type": "string", "minLength": 1}, "street": {"type": "string"}},
        },
    },
}


def test_a_drawn_body_is_the_valid_body_with_its_one_mutation_said_in_one_line() -> None:
    requests = generate(OPEN_ORDER, 20, seed=3)
    for request in requests:
        if request.body is None:  # malformed JSON: a cut-short valid body
            assert request.what.startswith("malformed JSON (a valid body cut short after ")
            continue
        assert set(request.body) <= {"sku", "quantity", "address", request.field}, request.raw_body
        if isinstance(request.body.get("address"), dict):
            assert set(request.body["address"]) == {"city"}, request.raw_body
        assert "\n" not in request.what
        if request.kind not in ("missing_required", "wrong_content_type"):
            value = request.body[request.field]
            long = isinstance(value, str) and len(value) > 20
            shown = f"a string of {len(value)} characters" if long else json.dumps(value, ensure_ascii=False)
            assert request.what.endswith(f": sent {shown}"), request.what
        assert len(request.case_yaml().splitlines()) <= 4 + len(request.body), request.case_yaml()  # a line a field
        assert len(request.raw_body) < 120, request.raw_body
    wrong = next(r for r in requests if r.kind == "out_of_range")
    assert re.fullmatch(r"'quantity' (below its minimum \(1\)|above its maximum \(99\)): sent -?\d+", wrong.what)


def test_with_count_20_every_kind_is_drawn_a_few_times_however_many_fields() -> None:
    fields = {f"field_{i}": {"type": "string", "minLength": 1, "maxLength": 10} for i in range(8)}
    wide = {"type": "object", "additionalProperties": False, "required": list(fields), "properties": fields}
    requests = generate(wide, 20, seed=1)
    counts = Counter(r.kind for r in requests)
    assert set(counts) == {
        "missing_required", "wrong_type", "too_short", "too_long", "extra_field", "malformed_json",
        "wrong_content_type",
    }  # fmt: skip
    assert min(counts.values()) >= 2, counts
    assert max(counts.values()) - min(counts.values()) <= 1, counts
    # within a kind, the fields take turns
    assert len({r.field for r in requests if r.kind == "too_long"}) == counts["too_long"]


def test_openapi_request_schema_inlines_refs_and_names_what_is_missing() -> None:
    document = {
        "paths": {"/p": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/c/P"}}}}}}},
        "c": {"P": {"type": "object", "properties": {"name": {"$ref": "#/c/Name"}}}, "Name": {"type": "string"}},
    }
    schema = openapi_request_schema(document, "/p", "POST", "the doc")
    assert schema == {"type": "object", "properties": {"name": {"type": "string"}}}
    with pytest.raises(HarnessError, match=r"the OpenAPI document at the doc has no request body for POST /q"):
        openapi_request_schema(document, "/q", "POST", "the doc")


def test_a_schema_nothing_can_be_drawn_from_is_an_error() -> None:
    with pytest.raises(HarnessError, match="not a valid JSON Schema"):
        generate({"type": "object", "properties": {"a": {"type": "nonsense"}}}, 3, seed=1)


def test_a_child_process_draws_what_this_process_would() -> None:
    draw = ChildDraw()
    assert draw.run(PERSON, 12, 5, timeout_s=60) == generate(PERSON, 12, seed=5)
    with pytest.raises(HarnessError, match="not a valid JSON Schema"):  # the child's error, as one message
        draw.run({"type": "object", "properties": {"a": {"type": "nonsense"}}}, 3, 1, timeout_s=60)
    with pytest.raises(HarnessError, match=r"took over 0 s; lower negative: count"):
        draw.run(PERSON, 12, 5, timeout_s=0.01)
    draw.kill()
    with pytest.raises(HarnessError, match="the run ended before the negative cases were drawn"):
        draw.run(PERSON, 12, 5, timeout_s=60)
