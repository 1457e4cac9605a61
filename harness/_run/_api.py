"""The harness from Python: one delivery, one check, one parity comparison, outside case files.

A test that needs a flow a case file cannot express (a setup call, a generated input, an assertion across
calls) sends inputs with ``Deliverer`` (the ``harness_deliver`` fixture) or ``deliver`` / ``adeliver``, and
judges the ``Outcome``s with ``run_check``, ``compare`` and ``assert_passed``. Requests are built and sent
by the same code as case files' (``harness._run._request.build_request`` and the adapters of ``_delivery``), and
``assert_passed`` fails with the lines a case item fails with. No pytest here: ``harness.plugin._fixtures`` wraps it.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from harness._delivery import CallbackReceiver
from harness._delivery._outcome import Outcome
from harness._errors import CheckFailed, HarnessUsageError
from harness._model._case import ParityLevel
from harness._model._spec import ServiceSpec, parse_service_spec
from harness._model._specs import SPEC_FILENAME
from harness._run._options import DEFAULT_TIMEOUT_S
from harness._run._request import Auth, build_request, deliver_request
from harness._run._results import check_lines, parity_lines, problem_lines
from harness._run._target import Target
from harness._verdict._checks import CheckContext, CheckResult, CheckSettings
from harness._verdict._checks import run_check as _run_registered_check
from harness._verdict._embeddings import EmbeddingError, parity_similarity, wants_embeddings
from harness._verdict._parity import ParityReport
from harness._verdict._parity import compare as _compare

if TYPE_CHECKING:
    from harness._delivery import Request
    from harness._run._runner import CaseRunner

ServiceRef = str | Path | ServiceSpec
"""A service as case files name it (``service:`` of a ``service.yaml``), a spec file's path, or a spec."""

ENDPOINTS = ("qa", "prod")
_RESULT_MARGIN_S = 60.0
"""Every delivery is bounded by its own timeout; this outer bound only guards against a bug in the runner."""


def find_service_spec(
    service: ServiceRef,
    spec_roots: Sequence[Path] = (Path("cases"),),
    load_spec: Callable[[Path], ServiceSpec] | None = None,
) -> ServiceSpec:
    """The spec of ``service``: a spec as given, a path's spec, or the ``service.yaml`` under ``spec_roots``
    whose ``service:`` is the name. ``HarnessUsageError`` names the known services when none matches."""
    if isinstance(service, ServiceSpec):
        return service
    load = load_spec or (lambda path: parse_service_spec(path, str(path)))
    if isinstance(service, Path) or service.endswith((".yaml", ".yml")):
        return load(Path(service))
    known: list[str] = []
    for root in spec_roots:
        for path in sorted(Path(root).rglob(SPEC_FILENAME)):
            spec = load(path)
            if spec.service == service:
                return spec
            known.append(spec.service)
    roots = ", ".join(str(root) for root in spec_roots) or "no folder"
    raise HarnessUsageError(
        f"no service spec named {service!r} under {roots}"
        + (f" (known: {', '.join(sorted(set(known)))})" if known else "")
        + f"; name the service of a {SPEC_FILENAME} in the case folders (ini harness_case_paths), "
        "or pass its path or a ServiceSpec"
    )


def _request(
    target: Target,
    spec: ServiceSpec,
    endpoint: str,
    input: Mapping[str, Any] | None,
    *,
    raw_body: str | None,
    headers: Mapping[str, str | None] | None,
    auth: Auth,
    timeout_s: float,
) -> Request:
    if endpoint not in ENDPOINTS:
        raise HarnessUsageError(f"unknown endpoint {endpoint!r} of service {spec.service!r}: use 'qa' or 'prod'")
    # Sent as given: unlike case files, a Python flow keeps its conversation ids to continue a conversation.
    body = copy.deepcopy(dict(input)) if input is not None else {}
    return build_request(
        target, spec, endpoint, body=body, raw_body=raw_body, headers=headers, auth=auth, timeout_s=timeout_s
    )


class Deliverer:
    """Sends one input to a service's ``qa`` or ``prod`` endpoint through a ``CaseRunner`` and returns the
    ``Outcome``: the adapters, HTTP client and callback receiver of the runner, so of this process.

    ``harness_deliver`` is one, bound to the run's target. Call it (``deliverer(service, endpoint, input)``)
    from sync code, ``await deliverer.adeliver(...)`` from asyncio code: the delivery runs on the runner's
    loop either way, and the caller's loop only awaits it.
    """

    def __init__(
        self,
        runner: CaseRunner,
        target: Target | None = None,
        *,
        spec_roots: Sequence[Path] = (Path("cases"),),
        load_spec: Callable[[Path], ServiceSpec] | None = None,
        timeout_s: float | None = None,
        on_outcome: Callable[[ServiceSpec, Outcome], None] | None = None,
    ) -> None:
        self.runner = runner
        self.target = target or runner.target
        """Where requests go unless a call names another target."""
        self.spec_roots = tuple(spec_roots)
        self.timeout_s = timeout_s or runner.timeout_s
        self._load_spec = load_spec
        self._on_outcome = on_outcome

    @property
    def settings(self) -> CheckSettings:
        """The run's check settings (the judge and the embedder), for ``run_check`` and ``compare``."""
        return self.runner.check_settings

    def _prepare(
        self,
        service: ServiceRef,
        endpoint: str,
        input: Mapping[str, Any] | None,
        raw_body: str | None,
        headers: Mapping[str, str | None] | None,
        auth: Auth,
        timeout_s: float | None,
        target: Target | None,
    ) -> tuple[ServiceSpec, Request]:
        spec = find_service_spec(service, self.spec_roots, self._load_spec)
        request = _request(
            target or self.target,
            spec,
            endpoint,
            input,
            raw_body=raw_body,
            headers=headers,
            auth=auth,
            timeout_s=timeout_s or self.timeout_s,
        )
        return spec, request

    def _done(self, spec: ServiceSpec, outcome: Outcome) -> Outcome:
        if self._on_outcome is not None:
            self._on_outcome(spec, outcome)
        return outcome

    def deliver(
        self,
        service: ServiceRef,
        endpoint: str,
        input: Mapping[str, Any] | None = None,
        *,
        raw_body: str | None = None,
        headers: Mapping[str, str | None] | None = None,
        auth: Auth = "default",
        timeout_s: float | None = None,
        target: Target | None = None,
    ) -> Outcome:
        """Send ``input`` (a JSON body; ``raw_body``: bytes as text, sent as-is) to ``endpoint`` of
        ``service`` and return what it delivered, waiting in this thread.

        ``headers`` mapped to None are not sent; ``auth`` sends the target's QA token (``default``), none
        or a wrong one (``invalid``); ``target`` overrides the deliverer's (e.g. ``reference_services``).
        Delivery failures are ``outcome.problems``; an unreachable service raises ``ServiceUnreachable``.
        """
        spec, request = self._prepare(service, endpoint, input, raw_body, headers, auth, timeout_s, target)
        outcome = self.runner.submit_delivery(request).result(timeout=request.timeout_s + _RESULT_MARGIN_S)
        return self._done(spec, outcome)

    __call__ = deliver

    async def adeliver(
        self,
        service: ServiceRef,
        endpoint: str,
        input: Mapping[str, Any] | None = None,
        *,
        raw_body: str | None = None,
        headers: Mapping[str, str | None] | None = None,
        auth: Auth = "default",
        timeout_s: float | None = None,
        target: Target | None = None,
    ) -> Outcome:
        """``deliver`` for asyncio code: awaits the delivery on the runner's loop without blocking the caller's
        (pytest-asyncio, anyio's asyncio backend). Arguments as for ``deliver``."""
        spec, request = self._prepare(service, endpoint, input, raw_body, headers, auth, timeout_s, target)
        # Submitting may start the callback receiver (a bounded, blocking start): off the caller's loop.
        future = await asyncio.to_thread(self.runner.submit_delivery, request)
        outcome = await asyncio.wait_for(asyncio.wrap_future(future), request.timeout_s + _RESULT_MARGIN_S)
        return self._done(spec, outcome)


async def adeliver(
    service: ServiceRef,
    endpoint: str,
    input: Mapping[str, Any] | None = None,
    *,
    target: Target,
    spec_roots: Sequence[Path] = (Path("cases"),),
    raw_body: str | None = None,
    headers: Mapping[str, str | None] | None = None,
    auth: Auth = "default",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    callback_host: str = "127.0.0.1",
    callback_url: str | None = None,
) -> Outcome:
    """One delivery outside pytest, on the caller's asyncio loop, with its own client (and, for a callback
    endpoint, its own callback receiver on ``callback_host``, reachable at ``callback_url`` if given).

    In tests prefer the ``harness_deliver`` fixture: it shares the run's client and receiver. Other arguments
    as for ``Deliverer.deliver``; ``service`` names are looked up under ``spec_roots``.
    """
    spec = find_service_spec(service, spec_roots)
    request = _request(
        target, spec, endpoint, input, raw_body=raw_body, headers=headers, auth=auth, timeout_s=timeout_s
    )
    receiver: CallbackReceiver | None = None
    if request.spec.delivery == "callback":
        receiver = CallbackReceiver(host=callback_host, public_url=callback_url, secret=target.callback_secret)
        await asyncio.to_thread(receiver.start)
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=10.0)) as client:
            return await deliver_request(client, request, {}, receiver)
    finally:
        if receiver is not None:
            await asyncio.to_thread(receiver.stop)


def deliver(
    service: ServiceRef,
    endpoint: str,
    input: Mapping[str, Any] | None = None,
    *,
    target: Target,
    spec_roots: Sequence[Path] = (Path("cases"),),
    raw_body: str | None = None,
    headers: Mapping[str, str | None] | None = None,
    auth: Auth = "default",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    callback_host: str = "127.0.0.1",
    callback_url: str | None = None,
) -> Outcome:
    """``adeliver`` for sync code outside pytest (a script, a notebook without a running loop)."""
    _no_running_loop("deliver", "await harness.adeliver(...)")
    return asyncio.run(
        adeliver(
            service,
            endpoint,
            input,
            target=target,
            spec_roots=spec_roots,
            raw_body=raw_body,
            headers=headers,
            auth=auth,
            timeout_s=timeout_s,
            callback_host=callback_host,
            callback_url=callback_url,
        )
    )


def _no_running_loop(name: str, instead: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise HarnessUsageError(f"harness.{name}() was called inside a running event loop; use {instead}")


# ---------------------------------------------------------------- judging outcomes


async def arun_check(
    outcome: Outcome,
    name: str,
    arg: Any = None,
    *,
    input: Any = None,
    other: Outcome | None = None,
    settings: CheckSettings | None = None,
) -> CheckResult:
    """Run the registered check ``name`` on ``outcome`` and return its verdict (never raises for a failure).

    ``arg`` is what a case file writes after the name; ``input`` is the request body the check sees
    (default: what ``outcome`` sent); pair checks (``scope="pair"``) compare ``outcome`` (QA) with ``other``
    (prod). ``settings`` carries e.g. the grader of ``llm_judge``. An unknown name raises ``KeyError``.
    """
    ctx = CheckContext(
        case_id="python",
        endpoint="parity" if other is not None else outcome.endpoint,
        outcome=outcome,
        other=other,
        input=outcome.request.get("body") if input is None else input,
        settings=settings or CheckSettings(),
    )
    return await _run_registered_check(name, ctx, arg)


def run_check(
    outcome: Outcome,
    name: str,
    arg: Any = None,
    *,
    input: Any = None,
    other: Outcome | None = None,
    settings: CheckSettings | None = None,
) -> CheckResult:
    """``arun_check`` for sync code; inside a running event loop, ``await harness.arun_check(...)`` instead."""
    _no_running_loop("run_check", "await harness.arun_check(...)")
    return asyncio.run(arun_check(outcome, name, arg, input=input, other=other, settings=settings))


def compare(
    qa: Outcome,
    prod: Outcome,
    *,
    level: ParityLevel = "structural",
    threshold: float | None = None,
    ignore_paths: Sequence[str] = (),
    settings: CheckSettings | None = None,
) -> ParityReport:
    """Compare a QA and a prod outcome at ``level`` (``exact``, ``normalized``, ``structural``, ``semantic``,
    ``lexical``, ``none``), as a case's ``parity:`` does: ``threshold`` for ``semantic`` and ``lexical`` (None:
    their defaults), ``ignore_paths`` (JSON pointers) left out of the body comparison. ``semantic`` asks the
    embedder of ``settings`` (``harness_deliver.settings`` in a test: the run's), else embeds with the local
    model, as the report says. Returns the ``ParityReport`` with its diffs."""
    if not wants_embeddings(level, False):
        return _compare(level, qa, prod, threshold=threshold, ignore_paths=ignore_paths)
    _no_running_loop("compare", "await harness.acompare(...) (semantic parity awaits its embeddings)")
    return asyncio.run(
        acompare(qa, prod, level=level, threshold=threshold, ignore_paths=ignore_paths, settings=settings)
    )


async def acompare(
    qa: Outcome,
    prod: Outcome,
    *,
    level: ParityLevel = "structural",
    threshold: float | None = None,
    ignore_paths: Sequence[str] = (),
    settings: CheckSettings | None = None,
) -> ParityReport:
    """``compare`` for asyncio code (the embeddings request is awaited). Arguments as for ``compare``; an embedder
    that cannot be reached makes a failed report saying so, as in a case's parity item."""
    try:
        similarity = await parity_similarity(settings or CheckSettings(), level, False, [qa, prod])
    except EmbeddingError as exc:
        return ParityReport(level, False, f"parity not judged: {exc}")
    return await asyncio.to_thread(
        _compare, level, qa, prod, threshold=threshold, ignore_paths=ignore_paths, similarity=similarity
    )


def failure_lines(*verdicts: Outcome | CheckResult | ParityReport) -> list[str]:
    """What failed among ``verdicts``, one entry each, worded as a case item words it: an outcome's delivery
    problems (``kind: message``), failed checks (``name: message``), failed parity with its diffs."""
    lines: list[str] = []
    for verdict in verdicts:
        if isinstance(verdict, Outcome):
            lines += problem_lines(verdict)
        elif isinstance(verdict, CheckResult):
            lines += check_lines([verdict])
        else:
            lines += parity_lines(verdict)
    return lines


def assert_passed(*verdicts: Outcome | CheckResult | ParityReport) -> None:
    """Raise ``CheckFailed`` with the ``failure_lines`` of ``verdicts`` if any failed (a skipped check passes)."""
    __tracebackhide__ = True  # pytest: the failure shows in the test, not in the harness
    lines = failure_lines(*verdicts)
    if lines:
        raise CheckFailed("\n".join(lines))
