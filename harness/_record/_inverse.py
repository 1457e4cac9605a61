"""The inverse of a body template: the case input a request body was built from.

``build_body`` places the case input wherever the template says ``$input`` and then applies the ``set``
fields. Here the body is matched against the template to find the input, and the result is proved by
building the body again from it: a body the spec could not have sent (other constants, a ``set`` field
with another value, keys the template does not place) is not mappable, and the reason says why.
"""

from __future__ import annotations

import json
from typing import Any

from harness._model._spec import INPUT_PLACEHOLDER, EndpointSpec
from harness._run._request import build_body

_UNSET = object()


class Unmappable(ValueError):
    """A request body the endpoint's template could not have produced; the message says why."""


def recover_input(spec: EndpointSpec, body: Any) -> Any:
    """The case input that ``spec``'s body template turns into ``body``; ``Unmappable`` if there is none."""
    if spec.body is None:
        if body is not None:
            raise Unmappable("the endpoint sends no body (body: null) but the request has one")
        return {}
    found = _match(spec.body, body, "")
    if found is _UNSET:
        raise Unmappable("the body template places no input")  # the spec model rules this out
    if build_body(spec, found) != body:
        raise Unmappable(
            f"the body is not what the template builds from the input found ({_first_gap(spec, found, body)})"
        )
    return found


def _match(template: Any, body: Any, where: str) -> Any:
    """The value at the template's ``$input`` places (all equal), or ``_UNSET`` if it has none."""
    if template == INPUT_PLACEHOLDER:
        return body
    found: Any = _UNSET
    if isinstance(template, dict):
        if not isinstance(body, dict):
            raise Unmappable(f"expected an object at {where or '/'}, got {_kind(body)}")
        for key, value in template.items():
            if key not in body:
                if _has_input(value):
                    raise Unmappable(f"the body has no {where}/{key}, where the template places the input")
                continue  # a set field or constant the client left out: the round trip judges it
            found = _agree(found, _match(value, body[key], f"{where}/{key}"), f"{where}/{key}")
        return found
    if isinstance(template, list):
        if not isinstance(body, list) or len(body) != len(template):
            raise Unmappable(f"expected a list of {len(template)} at {where or '/'}, got {_kind(body)}")
        for index, (value, item) in enumerate(zip(template, body, strict=True)):
            found = _agree(found, _match(value, item, f"{where}/{index}"), f"{where}/{index}")
    return found


def _agree(found: Any, new: Any, where: str) -> Any:
    if new is _UNSET:
        return found
    if found is not _UNSET and found != new:
        raise Unmappable(f"the template places the input twice and the body holds two different values (at {where})")
    return new


def _has_input(template: Any) -> bool:
    if template == INPUT_PLACEHOLDER:
        return True
    if isinstance(template, dict):
        return any(_has_input(v) for v in template.values())
    if isinstance(template, list):
        return any(_has_input(v) for v in template)
    return False


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def _first_gap(spec: EndpointSpec, found: Any, body: Any) -> str:
    """Where the rebuilt body first differs from the request's, in a few words."""
    rebuilt = build_body(spec, found)
    if isinstance(rebuilt, dict) and isinstance(body, dict):
        for key in sorted(set(rebuilt) | set(body)):
            if key not in body:
                return f"the request lacks /{key}"
            if key not in rebuilt:
                return f"the request has /{key}, which the template does not send"
            if rebuilt[key] != body[key]:
                return f"/{key} is {_short(body[key])}, the spec sends {_short(rebuilt[key])}"
    return f"got {_short(body)}, the spec builds {_short(rebuilt)}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
