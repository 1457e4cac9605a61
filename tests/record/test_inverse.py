"""The inverse of the body template: the case input recovered from a request body, proved by rebuilding it."""

from __future__ import annotations

from typing import Any

import pytest

from harness._model._spec import EndpointSpec
from harness._record._inverse import Unmappable, recover_input
from harness._run._request import build_body


def endpoint(**keys: Any) -> EndpointSpec:
    return EndpointSpec.model_validate({"path": "/x", "delivery": "sync", **keys})


def test_the_whole_body_is_the_input_by_default() -> None:
    body = {"course": "Biology", "n": 3}
    assert recover_input(endpoint(), body) == body


def test_a_nested_template_gives_back_what_it_placed_and_set_fields_are_dropped() -> None:
    spec = endpoint(body={"input": "$input", "config": {"tags": ["a"]}}, set={"/stream": True})
    body = build_body(spec, {"question": "why?"})
    assert body == {"input": {"question": "why?"}, "config": {"tags": ["a"]}, "stream": True}
    assert recover_input(spec, body) == {"question": "why?"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"input": {"q": 1}, "config": {"tags": ["b"]}, "stream": True}, "/config is"),
        ({"input": {"q": 1}, "config": {"tags": ["a"]}, "stream": False}, "/stream is false, the spec sends true"),
        ({"input": {"q": 1}, "config": {"tags": ["a"]}, "stream": True, "extra": 1}, "the template does not send"),
        ({"config": {"tags": ["a"]}, "stream": True}, "no /input, where the template places the input"),
        (["not", "an", "object"], "expected an object at /"),
    ],
)
def test_a_body_the_template_could_not_have_built_is_unmappable_with_the_reason(body: Any, reason: str) -> None:
    spec = endpoint(body={"input": "$input", "config": {"tags": ["a"]}}, set={"/stream": True})
    with pytest.raises(Unmappable, match=reason.replace("?", r"\?")):
        recover_input(spec, body)


def test_an_input_placed_twice_must_hold_the_same_value() -> None:
    spec = endpoint(body={"a": "$input", "b": "$input"})
    assert recover_input(spec, {"a": {"x": 1}, "b": {"x": 1}}) == {"x": 1}
    with pytest.raises(Unmappable, match="two different values"):
        recover_input(spec, {"a": {"x": 1}, "b": {"x": 2}})
