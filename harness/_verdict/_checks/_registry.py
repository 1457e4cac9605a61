"""The check registry: named functions that judge one outcome (or a QA/prod pair).

A check receives a ``CheckContext`` and the argument written in the case file (``None`` when the check
is named bare) and raises ``CheckFailed`` (or ``AssertionError``) to fail. It may be sync or async.
Users add their own with the ``@check("name")`` decorator from a conftest or a plugin.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from harness._delivery._outcome import Outcome
from harness._errors import CheckFailed, CheckNotApplicable, CheckSkipped, HarnessError
from harness._report.excerpts import json_path, short_repr

if TYPE_CHECKING:
    import jsonschema

Scope = Literal["side", "pair"]
CheckFn = Callable[["CheckContext", Any], Awaitable[None] | None]
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SORRY_TOKENS: tuple[str, ...] = (
    "sorry",
    "apologize",
    "i don't have",
    "cannot find",
    "can't find",
    "unable to find",
    "not covered",
)


@dataclass(frozen=True)
class CheckSettings:
    """Run-wide settings the checks read (set from pytest options by the plugin)."""

    sorry_tokens: tuple[str, ...] = DEFAULT_SORRY_TOKENS
    """Lower-case phrases that mark a "could not find it" reply (``retrieval_miss``, ``refusal``)."""
    judge_base_url: str | None = None
    """OpenAI-compatible base URL of the grader used by ``llm_judge``."""
    judge_api_key: str | None = None
    judge_model: str | None = None
    embeddings_base_url: str | None = None
    """OpenAI-compatible base URL of the embedder ``semantic`` parity uses; None: lexical similarity."""
    embeddings_api_key: str | None = None
    embeddings_model: str | None = None


@dataclass
class CheckContext:
    """What a check may look at."""

    case_id: str
    endpoint: str
    """``qa``, ``prod``, or ``parity`` for pair checks."""
    outcome: Outcome
    """This side's outcome (pair checks: the QA outcome)."""
    input: Any
    """The request body sent (a dict for JSON requests)."""
    other: Outcome | None = None
    """Pair checks: the prod outcome."""
    settings: CheckSettings = field(default_factory=CheckSettings)
    expects_error: bool = False
    """The case expects an error answer (a ``status`` check of error codes, or ``rejected``)."""

    def require_text(self) -> str:
        """This side's output text; fails the check when the outcome carries none.

        An expected rejection has no output text: a check that needs it does not apply there
        (``CheckNotApplicable``), so a file's default output checks do not fail its error-status cases.
        """
        text = self.outcome.text
        if text is None and self.expects_error and not self.outcome.succeeded:
            raise CheckNotApplicable(
                f"not applicable: the {self.outcome.endpoint} answer is the expected rejection "
                f"(status {self.outcome.status}), which has no output text"
            )
        if text is None:
            raise CheckFailed(
                f"expected output text from {self.outcome.endpoint}, got none "
                f"(status {self.outcome.status}, body {short_repr(self.outcome.body)})"
            )
        return text


@dataclass(frozen=True)
class RegisteredCheck:
    """A check as the registry knows it."""

    name: str
    fn: CheckFn
    scope: Scope
    doc: str
    """First line of the function's docstring."""
    arg_schema: dict[str, Any] | None
    """JSON-Schema fragment for the case-file argument; None accepts anything."""
    imports: tuple[str, ...] = ()
    """Modules the check imports lazily: a run whose cases name it imports them ahead, in the background."""

    def arg_errors(self, arg: Any) -> list[str]:
        """Describe why ``arg`` does not fit ``arg_schema`` (empty when it fits)."""
        if self.arg_schema is None:
            return []
        # The format checker makes {"format": "regex"} compile patterns, so a bad one fails at collection.
        from jsonschema.exceptions import best_match

        errors = sorted(self._validator.iter_errors(arg), key=lambda e: list(e.absolute_path))
        # Inside oneOf/anyOf, the branch that came closest says more than "not valid under any of the schemas".
        errors = [best_match([e]) for e in errors]
        return [f"{json_path(e.absolute_path)}: {e.message}" for e in errors if e is not None]

    @cached_property
    def _validator(self) -> jsonschema.Draft202012Validator:
        # Built once per check, not per run; jsonschema is imported on first use, never at plugin load.
        import jsonschema

        return jsonschema.Draft202012Validator(
            self.arg_schema or {}, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one outcome (or pair)."""

    name: str
    passed: bool
    message: str
    """Empty when passed; otherwise what was expected, what came and where."""
    duration_s: float
    skipped: bool = False
    """The check could not run here (``CheckSkipped``); ``message`` says why. Counts as passed."""


def is_built_in(fn: Callable[..., Any]) -> bool:
    """A check (or its function) that ships with the harness, extensions such as the exam checks included."""
    return fn.__module__.startswith("harness.")


_REGISTRY: dict[str, RegisteredCheck] = {}
# A module-level registry because checks are registered at import time of conftests and plugins,
# before any pytest config exists; it holds functions only, never run state.


def register_check(
    name: str,
    fn: CheckFn,
    *,
    scope: Scope = "side",
    arg_schema: dict[str, Any] | None = None,
    replace: bool = False,
    imports: Sequence[str] = (),
) -> None:
    """Add ``fn`` to the registry under ``name``.

    ``scope="side"`` checks run on the QA and the prod outcome separately; ``scope="pair"`` checks run once
    per case with ``ctx.outcome`` (QA) and ``ctx.other`` (prod). ``imports`` names heavy modules the check
    imports lazily, for the run to import ahead while its first deliveries wait. Registering a name taken
    by another function raises ``HarnessError`` unless ``replace=True``; the same function again replaces
    itself.
    """
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise HarnessError(f"check name {name!r} must be letters, digits, '_' or '-'")
    if scope not in ("side", "pair"):
        raise HarnessError(f"check {name!r}: scope must be 'side' or 'pair', not {scope!r}")
    existing = _REGISTRY[name].fn if name in _REGISTRY else None
    # The same function registered again (its conftest imported anew, as pytester or a re-run does) replaces
    # itself; only a *different* function under a taken name is a conflict.
    same = existing is not None and (existing.__module__, existing.__qualname__) == (fn.__module__, fn.__qualname__)
    if existing is not None and not (replace or same):
        raise HarnessError(
            f"check {name!r} is already registered (by {existing.__module__}.{existing.__qualname__}); "
            "pick another name or pass replace=True"
        )
    # The built-ins' schemas are validated by a test (test_import_cost); skipping them here keeps jsonschema
    # out of every run that never validates an argument.
    if arg_schema is not None and not is_built_in(fn):
        import jsonschema

        try:
            jsonschema.Draft202012Validator.check_schema(arg_schema)
        except jsonschema.SchemaError as exc:
            raise HarnessError(f"check {name!r}: arg_schema is not a valid JSON Schema: {exc.message}") from exc
    doc = (inspect.getdoc(fn) or "").strip().splitlines()
    _REGISTRY[name] = RegisteredCheck(
        name=name, fn=fn, scope=scope, doc=doc[0] if doc else "", arg_schema=arg_schema, imports=tuple(imports)
    )


def check(
    name: str,
    *,
    scope: Scope = "side",
    arg_schema: dict[str, Any] | None = None,
    replace: bool = False,
    imports: Sequence[str] = (),
) -> Callable[[F], F]:
    """Decorator form of ``register_check``; returns the function unchanged.

    Example (in a conftest.py)::

        @harness.check("mentions_course", arg_schema={"type": "string"})
        def mentions_course(ctx, arg):
            \"\"\"The reply names the course.\"\"\"
            if arg not in (ctx.outcome.text or ""):
                raise harness.CheckFailed(f"expected the reply to mention {arg!r}")
    """

    def decorate(fn: F) -> F:
        register_check(name, fn, scope=scope, arg_schema=arg_schema, replace=replace, imports=imports)
        return fn

    return decorate


def get_check(name: str) -> RegisteredCheck:
    """The registered check called ``name``; ``KeyError`` naming the known checks otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown check {name!r}; known checks: {', '.join(check_names())}") from None


def check_names() -> list[str]:
    """Names of all registered checks, sorted."""
    return sorted(_REGISTRY)


def unregister_check(name: str) -> None:
    """Remove a check (for tests of user-registered checks); unknown names are ignored."""
    _REGISTRY.pop(name, None)


async def run_check(name: str, ctx: CheckContext, arg: Any) -> CheckResult:
    """Run one check and return its verdict; never raises for a failing or crashing check.

    ``CheckFailed``/``AssertionError`` make a failed result carrying the message. Any other exception
    also makes a failed result, "check <name> crashed: <type>: <msg>", so a bug in a user's check
    fails that item instead of the run. An unknown name raises ``KeyError``.
    """
    registered = get_check(name)
    start = time.perf_counter()

    def result(passed: bool, message: str) -> CheckResult:
        return CheckResult(name, passed, message, time.perf_counter() - start)

    arg_errors = registered.arg_errors(arg)
    if arg_errors:
        return result(False, f"check {name}: bad argument {arg!r}: " + "; ".join(arg_errors))
    if registered.scope == "pair" and ctx.other is None:
        return result(False, f"check {name} compares both endpoints but only one outcome was given")
    try:
        if inspect.iscoroutinefunction(registered.fn):
            await registered.fn(ctx, arg)
        else:
            # A plain function may be CPU-heavy (parsing a huge reply): off the loop that carries deliveries.
            returned = await asyncio.to_thread(registered.fn, ctx, arg)
            if inspect.isawaitable(returned):
                await returned
    except CheckSkipped as exc:
        return CheckResult(name, True, str(exc), time.perf_counter() - start, skipped=True)
    except CheckNotApplicable as exc:
        return CheckResult(name, True, str(exc), time.perf_counter() - start)
    except AssertionError as exc:
        return result(False, str(exc) or f"check {name} failed (no message)")
    except Exception as exc:
        return result(False, f"check {name} crashed: {type(exc).__name__}: {exc}")
    return result(True, "")
