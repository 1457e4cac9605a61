"""Checks on the output text: substrings, patterns, sorry tokens, and the sources retrieval returned."""

from __future__ import annotations

import re
from typing import Any

from harness._errors import CheckFailed
from harness._report.excerpts import excerpt, first_difference, head, short_repr
from harness._verdict._checks._registry import CheckContext, check

_STR_OR_LIST: dict[str, Any] = {
    "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]
}
_REGEX_OR_LIST: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "format": "regex"},
        {"type": "array", "items": {"type": "string", "format": "regex"}, "minItems": 1},
    ]
}
_TOKENS: dict[str, Any] = {"oneOf": [{"type": "null"}, {"type": "array", "items": {"type": "string"}}]}


def _as_list(arg: str | list[str]) -> list[str]:
    return [arg] if isinstance(arg, str) else list(arg)


def _fold(text: str) -> str:
    # Curly apostrophes are how models usually write "don't"; sorry tokens are written with ASCII ones.
    return text.replace("\u2019", "'").replace("\u2018", "'").casefold()


def _first_token(text: str, tokens: list[str]) -> tuple[str, int] | None:
    folded = _fold(text)
    hits = [(folded.find(_fold(t)), t) for t in tokens if t]
    hits = [(at, t) for at, t in hits if at >= 0]
    if not hits:
        return None
    at, token = min(hits)
    return token, at


def _sorry_tokens(ctx: CheckContext, arg: Any) -> list[str]:
    return [*ctx.settings.sorry_tokens, *(arg or [])]


@check("retrieval_miss", arg_schema=_TOKENS)
def check_retrieval_miss(ctx: CheckContext, arg: Any) -> None:
    """The reply contains no sorry token, i.e. retrieval found the material (arg: extra tokens)."""
    text = ctx.require_text()
    hit = _first_token(text, _sorry_tokens(ctx, arg))
    if hit:
        token, at = hit
        raise CheckFailed(
            f"expected an answer from the course material, got a 'could not find it' reply: "
            f"sorry token {token!r} at offset {at}: {excerpt(text, at, at + len(token))}"
        )


@check("refusal", arg_schema=_TOKENS)
def check_refusal(ctx: CheckContext, arg: Any) -> None:
    """The reply contains a sorry token: the materials do not cover the question (arg: extra tokens)."""
    text = ctx.require_text()
    tokens = _sorry_tokens(ctx, arg)
    if _first_token(text, tokens) is None:
        raise CheckFailed(f"expected a refusal containing one of {tokens}, got an answer instead: {head(text, 120)}")


@check(
    "expected_sources",
    arg_schema={
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {
                "type": "object",
                "properties": {
                    "all_of": {"type": "array", "items": {"type": "string"}},
                    "any_of": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "exact": {"type": "array", "items": {"type": "string"}},
                    "none_of": {"type": "array", "items": {"type": "string"}},
                },
                "additionalProperties": False,
                "minProperties": 1,
            },
        ]
    },
)
def check_expected_sources(ctx: CheckContext, arg: Any) -> None:
    """The sources retrieval returned include these ids (list), or {all_of|any_of|exact|none_of: [...]}."""
    rules: dict[str, list[str]] = {"all_of": arg} if isinstance(arg, list) else dict(arg)
    sources = ctx.outcome.sources
    if sources is None:
        raise CheckFailed(
            f"expected sources {short_repr(rules)}, but {ctx.outcome.endpoint} returned no sources "
            "(does the service spec point at them?)"
        )
    got = set(sources)
    problems: list[str] = []
    if "all_of" in rules:
        missing = [s for s in rules["all_of"] if s not in got]
        if missing:
            problems.append(f"missing {missing}")
    if "any_of" in rules and not got.intersection(rules["any_of"]):
        problems.append(f"none of {rules['any_of']} was retrieved")
    if "exact" in rules and got != set(rules["exact"]):
        missing = sorted(set(rules["exact"]) - got)
        extra = sorted(got - set(rules["exact"]))
        problems.append(f"expected exactly {sorted(rules['exact'])}: missing {missing}, unexpected {extra}")
    if "none_of" in rules:
        forbidden = [s for s in rules["none_of"] if s in got]
        if forbidden:
            problems.append(f"unexpected {forbidden}")
    if problems:
        raise CheckFailed(f"sources: {'; '.join(problems)} (got {sorted(got)})")


def _find(text: str, needle: str, *, fold: bool) -> int:
    return text.casefold().find(needle.casefold()) if fold else text.find(needle)


def _contains(ctx: CheckContext, arg: Any, *, fold: bool, negate: bool) -> None:
    text = ctx.require_text()
    how = " (ignoring case)" if fold else ""
    for needle in _as_list(arg):
        at = _find(text, needle, fold=fold)
        if not negate and at < 0:
            raise CheckFailed(f"expected the text to contain {needle!r}{how}, not found in {head(text, 120)}")
        if negate and at >= 0:
            raise CheckFailed(
                f"expected the text not to contain {needle!r}{how}, found at offset {at}: "
                f"{excerpt(text, at, at + len(needle))}"
            )


@check("contains", arg_schema=_STR_OR_LIST)
def check_contains(ctx: CheckContext, arg: Any) -> None:
    """The text contains every given string."""
    _contains(ctx, arg, fold=False, negate=False)


@check("icontains", arg_schema=_STR_OR_LIST)
def check_icontains(ctx: CheckContext, arg: Any) -> None:
    """The text contains every given string, ignoring case."""
    _contains(ctx, arg, fold=True, negate=False)


@check("not_contains", arg_schema=_STR_OR_LIST)
def check_not_contains(ctx: CheckContext, arg: Any) -> None:
    """The text contains none of the given strings."""
    _contains(ctx, arg, fold=False, negate=True)


@check("not_icontains", arg_schema=_STR_OR_LIST)
def check_not_icontains(ctx: CheckContext, arg: Any) -> None:
    """The text contains none of the given strings, ignoring case."""
    _contains(ctx, arg, fold=True, negate=True)


def _compile(pattern: str) -> re.Pattern[str]:
    # Patterns were validated against the argument schema ({"format": "regex"}) before the check runs.
    return re.compile(pattern, re.MULTILINE)


@check("regex", arg_schema=_REGEX_OR_LIST)
def check_regex(ctx: CheckContext, arg: Any) -> None:
    """Every given regular expression matches somewhere in the text (re.search, MULTILINE)."""
    text = ctx.require_text()
    for pattern in _as_list(arg):
        if not _compile(pattern).search(text):
            raise CheckFailed(f"expected a match for /{pattern}/, none in {head(text, 120)}")


@check("not_regex", arg_schema=_REGEX_OR_LIST)
def check_not_regex(ctx: CheckContext, arg: Any) -> None:
    """No given regular expression matches anywhere in the text."""
    text = ctx.require_text()
    for pattern in _as_list(arg):
        match = _compile(pattern).search(text)
        if match:
            raise CheckFailed(
                f"expected no match for /{pattern}/, matched {match.group(0)!r} at offset {match.start()}: "
                f"{excerpt(text, match.start(), match.end())}"
            )


@check("equals", arg_schema=_STR_OR_LIST)
def check_equals(ctx: CheckContext, arg: Any) -> None:
    """The text equals the given string (or one of the given strings)."""
    text = ctx.require_text()
    wanted = _as_list(arg)
    if text in wanted:
        return
    nearest = max(wanted, key=lambda w: first_difference(text, w))
    at = first_difference(text, nearest)
    raise CheckFailed(
        f"expected the text to equal {nearest!r}{' (or another given value)' if len(wanted) > 1 else ''}; "
        f"it differs at offset {at}: expected {excerpt(nearest, at)}, got {excerpt(text, at)}"
    )


@check("not_equals", arg_schema=_STR_OR_LIST)
def check_not_equals(ctx: CheckContext, arg: Any) -> None:
    """The text equals none of the given strings."""
    text = ctx.require_text()
    if text in _as_list(arg):
        raise CheckFailed(f"expected the text to differ from {text!r}, it is exactly that")
