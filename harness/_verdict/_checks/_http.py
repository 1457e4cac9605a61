"""Checks on the HTTP side of an outcome: status, error-body shape, JSON schema, latency, model version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness._errors import CheckFailed, CheckNotApplicable
from harness._report.excerpts import json_path, short_repr
from harness._verdict._checks._registry import CheckContext, check


@check(
    "status",
    arg_schema={
        "oneOf": [
            {"type": "integer", "minimum": 100, "maximum": 599},
            {"type": "array", "items": {"type": "integer", "minimum": 100, "maximum": 599}, "minItems": 1},
        ]
    },
)
def check_status(ctx: CheckContext, arg: Any) -> None:
    """The HTTP status is the given one (or one of the given ones)."""
    wanted = [arg] if isinstance(arg, int) else list(arg)
    got = ctx.outcome.status
    if got not in wanted:
        expected = wanted[0] if len(wanted) == 1 else f"one of {wanted}"
        came = "no response" if got is None else f"{got} with body {short_repr(ctx.outcome.body)}"
        raise CheckFailed(f"expected status {expected}, got {came}")


@dataclass(frozen=True)
class ErrorBody:
    """The recognised shape of an error response body."""

    kind: str
    """``detail_list`` (FastAPI validation), ``detail_str``, ``error_object``."""
    locs: frozenset[tuple[str, ...]] = frozenset()
    """``detail_list``: the ``loc`` of every entry."""
    types: frozenset[str] = frozenset()
    """``detail_list``: every entry's ``type``; ``error_object``: the error's ``type``."""

    def signature(self) -> tuple[str, frozenset[tuple[str, ...]], frozenset[str]]:
        """What two error bodies must share to count as the same error (messages excluded)."""
        return (self.kind, self.locs, self.types)

    def describe(self) -> str:
        """E.g. ``detail list, loc body.num_questions, type greater_than_equal``."""
        parts = [self.kind.replace("_", " ")]
        if self.locs:
            parts.append("loc " + ", ".join(sorted(".".join(loc) for loc in self.locs)))
        if self.types:
            parts.append("type " + ", ".join(sorted(self.types)))
        return ", ".join(parts)


def classify_error_body(body: Any) -> ErrorBody | None:
    """Recognise ``{"detail": [...]}``, ``{"detail": str}`` or ``{"error": {"type", "message"}}``."""
    if not isinstance(body, dict):
        return None
    detail = body.get("detail")
    if isinstance(detail, list) and detail:
        entries = [d for d in detail if isinstance(d, dict)]
        if len(entries) != len(detail) or not all(
            isinstance(d.get("loc"), list) and isinstance(d.get("msg"), str) and isinstance(d.get("type"), str)
            for d in entries
        ):
            return None
        return ErrorBody(
            "detail_list",
            frozenset(tuple(str(part) for part in d["loc"]) for d in entries),
            frozenset(d["type"] for d in entries),
        )
    if isinstance(detail, str):
        return ErrorBody("detail_str")
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("type"), str) and isinstance(error.get("message"), str):
        return ErrorBody("error_object", types=frozenset([error["type"]]))
    return None


@check(
    "error_shape",
    arg_schema={
        "oneOf": [
            {"type": "null"},
            {
                "type": "object",
                "properties": {
                    "kind": {"enum": ["detail_list", "detail_str", "error_object"]},
                    "detail_loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "type": {"type": "string"},
                },
                "additionalProperties": False,
            },
        ]
    },
)
def check_error_shape(ctx: CheckContext, arg: Any) -> None:
    """The body is an error body; arg may pin {kind, detail_loc: [...], type}."""
    body = ctx.outcome.body
    shape = classify_error_body(body)
    if shape is None:
        raise CheckFailed(
            'expected an error body ({"detail": [{"loc", "msg", "type"}, ...]}, {"detail": "..."} or '
            f'{{"error": {{"type", "message"}}}}), got {short_repr(body)}'
        )
    wanted: dict[str, Any] = arg or {}
    if "kind" in wanted and shape.kind != wanted["kind"]:
        raise CheckFailed(f"expected a {wanted['kind']} error body, got {shape.describe()}: {short_repr(body)}")
    if "detail_loc" in wanted:
        loc = tuple(str(part) for part in wanted["detail_loc"])
        if loc not in shape.locs:
            got = ", ".join(sorted(str(list(x)) for x in shape.locs)) or "none (not a detail list)"
            raise CheckFailed(f"expected an error at loc {list(loc)}, got locs {got}: {short_repr(body)}")
    if "type" in wanted and wanted["type"] not in shape.types:
        raise CheckFailed(f"expected error type {wanted['type']!r}, got {shape.describe()}: {short_repr(body)}")


@check("json_schema", arg_schema={"type": "object"}, imports=("jsonschema",))
def check_json_schema(ctx: CheckContext, arg: Any) -> None:
    """The JSON body validates against the given JSON Schema."""
    import jsonschema  # lazy, like every heavy import of the checks

    validator_class = jsonschema.validators.validator_for(arg, default=jsonschema.Draft202012Validator)
    try:
        validator_class.check_schema(arg)
    except jsonschema.SchemaError as exc:
        raise CheckFailed(f"the json_schema argument is not a valid schema: {exc.message}") from exc
    errors = sorted(validator_class(arg).iter_errors(ctx.outcome.body), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{json_path(e.absolute_path)}: {e.message}" for e in errors[:10]]
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise CheckFailed(f"body does not match the schema{more}:\n  " + "\n  ".join(lines))


@check(
    "latency",
    arg_schema={
        "type": "object",
        "properties": {"total_ms": {"type": "number", "minimum": 0}, "ttft_ms": {"type": "number", "minimum": 0}},
        "additionalProperties": False,
        "minProperties": 1,
    },
)
def check_latency(ctx: CheckContext, arg: Any) -> None:
    """Timings within budget: {total_ms, ttft_ms} (ttft only judged where it was measured: streams)."""
    timings = ctx.outcome.timings
    over: list[str] = []
    if "total_ms" in arg:
        if timings.total_s is None:
            raise CheckFailed("latency: no total time was measured (the request did not complete)")
        if timings.total_s * 1000 > arg["total_ms"]:
            over.append(f"total {timings.total_s * 1000:.0f} ms > budget {arg['total_ms']} ms")
    if "ttft_ms" in arg:
        if timings.ttft_s is None:
            if ctx.outcome.delivery == "sse":
                raise CheckFailed("latency: the stream never produced a first token, so ttft was not measured")
        elif timings.ttft_s * 1000 > arg["ttft_ms"]:
            over.append(f"time to first token {timings.ttft_s * 1000:.0f} ms > budget {arg['ttft_ms']} ms")
    if over:
        raise CheckFailed(f"latency over budget on {ctx.outcome.endpoint}: " + "; ".join(over))


@check("model_version_equal", scope="pair", arg_schema={"oneOf": [{"type": "null"}, {"type": "string"}]})
def check_model_version_equal(ctx: CheckContext, arg: Any) -> None:
    """Both endpoints report the same ``model_version`` (arg: another metadata key)."""
    key = arg or "model_version"
    assert ctx.other is not None  # run_check guarantees it for pair checks
    if ctx.expects_error and not ctx.outcome.succeeded and not ctx.other.succeeded:
        raise CheckNotApplicable(f"not applicable: both answers are the expected rejection, which reports no {key}")
    sides = [(ctx.outcome.endpoint or "qa", ctx.outcome), (ctx.other.endpoint or "prod", ctx.other)]
    for name, outcome in sides:
        if key not in outcome.metadata:
            known = ", ".join(sorted(outcome.metadata)) or "none"
            raise CheckFailed(f"{name} reports no {key} (metadata keys: {known})")
    (qa_name, qa), (prod_name, prod) = sides
    if qa.metadata[key] != prod.metadata[key]:
        raise CheckFailed(
            f"expected the same {key} on both endpoints: {qa_name} reports {qa.metadata[key]!r}, "
            f"{prod_name} reports {prod.metadata[key]!r}"
        )


@check("rejected", arg_schema={"type": "null"})
def check_rejected(ctx: CheckContext, arg: Any) -> None:
    """The endpoint rejected the request as the client's fault: a 4xx status, not acceptance or a 5xx."""
    got = ctx.outcome.status
    if got is None or not 400 <= got <= 499:
        came = "no response" if got is None else f"{got} with body {short_repr(ctx.outcome.body)}"
        raise CheckFailed(f"expected a 4xx rejection, got {came}")
