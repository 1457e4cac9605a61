"""Runs cases against both endpoints on a background event loop, many in flight at once.

pytest items are synchronous and run one after another; the network waits of a case are not. The runner
owns one asyncio loop in a daemon thread per process. Items *submit* cases (the plugin submits ahead of
the item being run), the loop runs up to ``concurrency`` of them at once, and each item only waits for
its own case's result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from harness._delivery import CallbackReceiver, DeliveryAdapter, Request, get_adapter
from harness._delivery._base import DEFAULT_MAX_RESPONSE_BYTES
from harness._delivery._outcome import Outcome
from harness._errors import HarnessError, HarnessUsageError
from harness._model._case import ResolvedCase
from harness._model._pointer import resolve_pointer, set_pointer
from harness._model._spec import INPUT_PLACEHOLDER, ConversationSpec, EndpointSpec, ServiceSpec, expand_env
from harness._run._imports import warm
from harness._run._slots import Slots
from harness._verdict._checks import CheckContext, CheckResult, CheckSettings, get_check, run_check
from harness._verdict._embeddings import EmbeddingError, parity_similarity, wants_embeddings
from harness._verdict._parity import ParityReport, compare, compare_with_noise


@dataclass(frozen=True)
class Target:
    """Where the services under test live and the secrets they expect."""

    base_url: str
    qa_token: str | None = None
    callback_secret: str | None = None
    model_url: str | None = None
    """The in-process services' OpenAI-compatible model (``/v1``); None for a ``--base-url`` target."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secrets to mask wherever this target's traffic is shown."""
        return tuple(s for s in (self.qa_token, self.callback_secret) if s)


Auth = Literal["default", "none", "invalid"]


def problem_lines(outcome: Outcome) -> list[str]:
    """An outcome's delivery problems as failure lines (``kind: message``)."""
    return [f"{p.kind}: {p.message}" for p in outcome.problems]


def check_lines(checks: Iterable[CheckResult]) -> list[str]:
    """Failed checks as failure lines (``name: message``)."""
    return [f"{c.name}: {c.message}" for c in checks if not c.passed]


def parity_lines(report: ParityReport, prefix: str = "") -> list[str]:
    """A failed parity report as failure lines: the verdict, then its diffs (none when it passed)."""
    if report.passed:
        return []
    lines = [f"{prefix}{report.level} parity failed: {report.summary}"]
    return lines + [diff for diff in (report.text_diff, report.json_diff) if diff]


def build_request(
    target: Target,
    spec: ServiceSpec,
    endpoint: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    headers: Mapping[str, str | None] | None = None,
    auth: Auth = "default",
    conversation: str | None = None,
    timeout_s: float = 60.0,
    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> Request:
    """The ``Request`` for ``endpoint`` (``qa`` or ``prod``) of ``spec`` at ``target``.

    ``body`` is the case input: the endpoint's body template places it (``$input``) and its ``set`` fields
    are applied. The spec's headers are sent with ``${NAME}`` read from the environment (the values are
    masked like the QA token); ``headers`` mapped to None are never sent; ``auth`` sends the target's QA
    token (``default``) where the endpoint wants it, or drops (``none``) or spoils (``invalid``) whatever
    Authorization header the request carries; ``conversation`` replaces the spec's conversation id in
    ``body`` (case files: one id per run, case and endpoint). ``body`` is sent as given: copy it first.

    Raises ``HarnessUsageError`` when a ``${NAME}`` is not set or the body cannot be built.
    """
    endpoint_spec = spec.endpoint(endpoint)
    secret_values = list(target.secrets)
    sent: dict[str, str] = {}
    for name, template in endpoint_spec.headers.items():
        sent[name], used = _expand(template, f"{spec.service} {endpoint} header {name}")
        secret_values += used
    omit: set[str] = set()
    for name, value in (headers or {}).items():
        if value is None:
            omit.add(name)
        else:
            sent[name] = value
    if endpoint_spec.auth == "qa_token":
        sent.setdefault("Authorization", f"Bearer {target.qa_token or ''}")
    _apply_auth(sent, omit, auth)
    content: bytes | None = None
    id_field = spec.conversation.id_field if spec.conversation else None
    if raw_body is not None:
        content = raw_body.encode("utf-8")
        body = None
        sent.setdefault("Content-Type", "application/json")
    else:
        if conversation is not None and isinstance(body, dict) and id_field in body:
            body[str(id_field)] = conversation
        try:
            body = build_body(endpoint_spec, body)
        except ValueError as exc:
            raise HarnessUsageError(f"cannot build the {endpoint} request of {spec.service!r}: {exc}") from None
    base_url = _base_url(target, spec)
    return Request(
        endpoint=endpoint,
        method=endpoint_spec.method,
        url=base_url + endpoint_spec.path,
        spec=endpoint_spec,
        base_url=base_url,
        headers=sent,
        omit_headers=frozenset(omit),
        json=body,
        content=content,
        timeout_s=timeout_s,
        secrets=tuple(dict.fromkeys(secret_values)),
        max_bytes=max_bytes,
    )


def build_body(spec: EndpointSpec, case_input: Any) -> Any:
    """The endpoint's body template with the case input placed, then its ``set`` fields applied."""
    if spec.body is None:
        return None
    body = _place(spec.body, case_input)
    for pointer, value in spec.set.items():
        set_pointer(body, pointer, copy.deepcopy(value))
    return body


def _place(template: Any, case_input: Any) -> Any:
    if template == INPUT_PLACEHOLDER:
        return copy.deepcopy(case_input)
    if isinstance(template, dict):
        return {key: _place(value, case_input) for key, value in template.items()}
    if isinstance(template, list):
        return [_place(value, case_input) for value in template]
    return template


def _apply_auth(headers: dict[str, str], omit: set[str], auth: str) -> None:
    """``none`` drops the Authorization header whatever set it; ``invalid`` replaces it with a wrong one."""
    names = [name for name in headers if name.lower() == "authorization"]
    if auth == "none":
        for name in names:
            del headers[name]
        omit.add("Authorization")
    elif auth == "invalid":
        for name in names:
            headers[name] = "Bearer invalid-" + secrets.token_hex(8)


def _base_url(target: Target, spec: ServiceSpec) -> str:
    """The spec's own base URL (``${NAME}`` expanded, ``local:model`` the in-process model), else the target's."""
    if spec.base_url is None:
        return target.base_url.rstrip("/")
    if spec.base_url == "local:model":
        if target.model_url is None:
            raise HarnessUsageError(
                f"service {spec.service!r} has base_url local:model, which exists only when the harness starts "
                "the reference services in-process (no --base-url); deselect its cases "
                "(e.g. --deselect cases/reference-model) or give the spec a real base_url"
            )
        # The model's client URL ends in /v1; the spec's paths (the preset's /v1/chat/completions) start there.
        return target.model_url.rstrip("/").removesuffix("/v1")
    url, _ = _expand(spec.base_url, f"{spec.service} base_url")
    return url.rstrip("/")


def _expand(template: str, where: str) -> tuple[str, list[str]]:
    """``${NAME}`` expanded; a variable unset since collection is a usage error naming it."""
    try:
        return expand_env(template)
    except KeyError as exc:
        name = exc.args[0]
        raise HarnessUsageError(f"{where} reads ${{{name}}}, which is not set: export {name}=...") from None


async def deliver_request(
    client: httpx.AsyncClient, request: Request, adapters: dict[str, DeliveryAdapter], receiver: CallbackReceiver | None
) -> Outcome:
    """Send ``request`` through the adapter of its delivery mode (made on first use, kept in ``adapters``)."""
    delivery = request.spec.delivery
    if delivery not in adapters:
        adapters[delivery] = get_adapter(delivery, receiver=receiver)
    return await adapters[delivery].deliver(client, request)


@dataclass
class TurnResult:
    """One endpoint's output for one turn and the checks run on it."""

    outcome: Outcome
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def skipped(self) -> list[str]:
        """Checks that could not run here, with why."""
        return [f"{c.name}: {c.message}" for c in self.checks if c.skipped]

    @property
    def failures(self) -> list[str]:
        """Delivery problems and failed checks, one line each."""
        return problem_lines(self.outcome) + check_lines(self.checks)


@dataclass
class SideRun:
    """Everything one endpoint delivered for one run of a case."""

    endpoint: str
    turns: list[TurnResult] = field(default_factory=list)
    error: HarnessError | None = None
    """Not the service's output failing: unreachable, or a harness problem."""

    @property
    def passed(self) -> bool:
        """No infrastructure error, no delivery problem, every check passed."""
        return self.error is None and all(not t.failures for t in self.turns)

    def failure_text(self) -> str:
        """Readable failures, prefixed with the turn when there are several."""
        if self.error is not None:
            return str(self.error)
        lines = []
        for number, turn in enumerate(self.turns, 1):
            prefix = f"turn {number}: " if len(self.turns) > 1 else ""
            lines += [prefix + line for line in turn.failures]
        return "\n".join(lines)


@dataclass
class ParityRun:
    """QA against prod for one run: a parity report per turn and the pair checks."""

    reports: list[ParityReport] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    blocked: str | None = None
    """Why parity could not be judged (a side delivered nothing)."""

    @property
    def passed(self) -> bool:
        """Parity held on every turn and every pair check passed."""
        return self.blocked is None and all(r.passed for r in self.reports) and all(c.passed for c in self.checks)

    def failure_text(self) -> str:
        """Readable failures with their diffs."""
        if self.blocked:
            return self.blocked
        parts: list[str] = []
        for number, report in enumerate(self.reports, 1):
            parts += parity_lines(report, f"turn {number}: " if len(self.reports) > 1 else "")
        return "\n".join(parts + check_lines(self.checks))


@dataclass
class CaseRun:
    """One repeat of a case."""

    sides: dict[str, SideRun]
    parity: ParityRun | None


@dataclass
class CaseResult:
    """All repeats of a case."""

    case: ResolvedCase
    runs: list[CaseRun]

    def pass_rate(self, part: str) -> float:
        """Share of repeats in which ``part`` (qa, prod or parity) passed."""
        outcomes = [self._passed(run, part) for run in self.runs]
        return sum(outcomes) / len(outcomes) if outcomes else 0.0

    def passed(self, part: str) -> bool:
        """The part's pass rate meets the case's ``min_pass_rate``."""
        return self.pass_rate(part) >= self.case.min_pass_rate - 1e-9

    def first_failure(self, part: str) -> str:
        """The failure text of the first repeat where ``part`` failed."""
        for number, run in enumerate(self.runs, 1):
            if not self._passed(run, part):
                text = run.parity.failure_text() if part == "parity" and run.parity else run.sides[part].failure_text()
                return f"(repeat {number}) {text}" if len(self.runs) > 1 else text
        return ""

    def failure(self, part: str) -> str:
        """The item's failure message: the pass rate when repeated, then the first failing repeat's failures."""
        text = self.first_failure(part)
        if len(self.runs) > 1:
            rate = f"pass rate {self.pass_rate(part):.0%} over {len(self.runs)} runs"
            text = f"{rate}, below min_pass_rate {self.case.min_pass_rate:.0%}\n{text}"
        return text

    def skipped_checks(self, part: str) -> list[str]:
        """Checks of ``part`` that could not run here (the same in every repeat), with why."""
        reasons: list[str] = []
        for run in self.runs:
            checks = run.parity.checks if part == "parity" and run.parity else []
            turns = run.sides[part].turns if part in run.sides else []
            lines = [f"{c.name}: {c.message}" for c in checks if c.skipped]
            lines += [line for turn in turns for line in turn.skipped]
            reasons += [line for line in lines if line not in reasons]
        return reasons

    def infrastructure_error(self) -> HarnessError | None:
        """The first error that is not the service's output failing (e.g. unreachable)."""
        for run in self.runs:
            for side in run.sides.values():
                if side.error is not None:
                    return side.error
        return None

    @staticmethod
    def _passed(run: CaseRun, part: str) -> bool:
        if part == "parity":
            return run.parity is not None and run.parity.passed
        return run.sides[part].passed


class CaseRunner:
    """Runs resolved cases on a background loop; thread-safe ``submit`` and ``close``."""

    def __init__(
        self,
        target: Target,
        specs: dict[str, ServiceSpec],
        *,
        concurrency: int = 8,
        timeout_s: float = 60.0,
        repeat: int | None = None,
        callback_host: str = "127.0.0.1",
        callback_url: str | None = None,
        check_settings: CheckSettings | None = None,
        run_id: str | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.target = target
        self.max_response_bytes = max_response_bytes
        self.specs = specs
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.repeat = repeat
        self.check_settings = check_settings or CheckSettings()
        self.run_id = run_id or secrets.token_hex(4)
        self._futures: dict[str, concurrent.futures.Future[CaseResult]] = {}
        self._longest_bound = 0.0
        """The outer bound of the longest case submitted: how long a case may wait for a slot to free."""
        self._lock = threading.Lock()
        self._callback_host = callback_host
        self._callback_url = callback_url
        self._receiver: CallbackReceiver | None = None
        if any(spec.endpoint(ep).delivery == "callback" for spec in specs.values() for ep in ("qa", "prod")):
            self._start_receiver()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="harness-runner", daemon=True)
        self._thread.start()
        self._ready = self._call(self._open())

    # ---------------------------------------------------------------- lifecycle (caller thread)

    def _call(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _open(self) -> None:
        self._slots = Slots(self.concurrency)
        limits = httpx.Limits(
            max_connections=max(4 * self.concurrency, 20),
            max_keepalive_connections=self.concurrency,
            # Drop idle connections well before servers commonly close them (uvicorn's default is 5 s), so a
            # request never goes out on a connection the server is closing at that moment.
            keepalive_expiry=2.0,
        )
        self._client = httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(self.timeout_s, connect=10.0))
        self._adapters: dict[str, DeliveryAdapter] = {}

    def _start_receiver(self) -> None:
        # On the caller's thread, so its start-up never blocks the runner's loop; one per process.
        with self._lock:
            if self._receiver is None:
                receiver = CallbackReceiver(
                    host=self._callback_host,
                    public_url=self._callback_url,
                    secret=self.target.callback_secret,
                    max_body_bytes=self.max_response_bytes,
                )
                receiver.start()
                self._receiver = receiver

    def close(self) -> None:
        """Cancel what is still in flight, close the client and the receiver, stop the loop."""
        for future in self._futures.values():
            future.cancel()
        try:
            self._call(self._client.aclose(), timeout=10.0)
            # Finalise async generators (a stream left mid-read) on this loop, not at a later GC elsewhere.
            self._call(self._loop.shutdown_asyncgens(), timeout=5.0)
        finally:
            if self._receiver is not None:
                self._receiver.stop()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10.0)

    @property
    def late_callbacks(self) -> list[Any]:
        """Callback deliveries that arrived after their wait ended."""
        return list(self._receiver.late_deliveries()) if self._receiver is not None else []

    # ---------------------------------------------------------------- submitting (caller thread)

    def submit(self, case: ResolvedCase) -> concurrent.futures.Future[CaseResult]:
        """Start the case unless it is already running; return its future."""
        with self._lock:
            future = self._futures.get(case.key)
            if future is None:
                self._longest_bound = max(self._longest_bound, self._bound(case))
                future = asyncio.run_coroutine_threadsafe(self._run_case(case), self._loop)
                self._futures[case.key] = future
            return future

    def warm_up(self, cases: Iterable[ResolvedCase]) -> None:
        """Import in the background what these cases' checks and parity import at first use (``_imports``)."""
        modules: set[str] = set()
        embedder = bool(self.check_settings.embeddings_base_url)
        for case in cases:
            for name, _ in case.all_checks:
                modules.update(get_check(name).imports)
            if len(case.case.endpoints) == 2 and case.parity.level != "none":
                modules.add("deepdiff")  # body comparison, and the diff of a failure
                if wants_embeddings(case.parity.level, case.parity.noise_samples >= 2):
                    # the embedder's client, or the local model's runtime (the model itself loads at first use)
                    modules.update(("openai",) if embedder else ("numpy", "onnxruntime", "tokenizers"))
        warm(modules)

    def submit_all(self, cases: Iterable[ResolvedCase]) -> None:
        """Start many cases; they queue on the concurrency bound in this order."""
        for case in cases:
            self.submit(case)

    def submit_delivery(self, request: Request) -> concurrent.futures.Future[Outcome]:
        """Send one prepared request on the runner's loop, outside the case concurrency bound.

        Callback endpoints go through this process's callback receiver (started here if no case needed it).
        """
        if request.spec.delivery == "callback":
            self._start_receiver()
        return asyncio.run_coroutine_threadsafe(self._deliver(request), self._loop)

    def result(self, case: ResolvedCase) -> CaseResult:
        """Wait for the case's result: it goes next if it has not started, and the wait is bounded."""
        future = self.submit(case)
        self._loop.call_soon_threadsafe(self._slots.hurry, case.key)
        # Every delivery is bounded; this outer bound only guards against a bug in the runner itself. A case not
        # started yet waits for one slot to free first, which the longest case submitted bounds.
        return future.result(timeout=self._bound(case) + self._longest_bound)

    def _bound(self, case: ResolvedCase) -> float:
        deliveries = len(case.turns) * self._repeats(case) * max(1, case.parity.noise_samples)
        return (case.timeout_s or self.timeout_s) * deliveries + 60.0

    # ---------------------------------------------------------------- running (loop thread)

    def _repeats(self, case: ResolvedCase) -> int:
        return max(case.repeat, self.repeat or 1) if case.case.repeat is None else case.repeat

    async def _run_case(self, case: ResolvedCase) -> CaseResult:
        runs = await asyncio.gather(*(self._run_once(case, n) for n in range(self._repeats(case))))
        return CaseResult(case=case, runs=list(runs))

    async def _run_once(self, case: ResolvedCase, repeat: int) -> CaseRun:
        async with self._slots.hold(case.key):
            spec = self.specs[case.service]
            samples = case.parity.noise_samples if case.parity.noise_samples >= 2 else 1
            endpoints = list(case.case.endpoints)
            runs = await asyncio.gather(
                *(self._run_side(case, spec, ep, repeat, sample) for ep in endpoints for sample in range(samples))
            )
            by_endpoint: dict[str, list[SideRun]] = {ep: [] for ep in endpoints}
            for side in runs:
                by_endpoint[side.endpoint].append(side)
            sides = {ep: side_runs[0] for ep, side_runs in by_endpoint.items()}
            parity = None
            if len(endpoints) == 2:
                parity = await self._parity(case, by_endpoint["qa"], by_endpoint["prod"])
            return CaseRun(sides=sides, parity=parity)

    async def _run_side(
        self, case: ResolvedCase, spec: ServiceSpec, endpoint: str, repeat: int, sample: int
    ) -> SideRun:
        side = SideRun(endpoint=endpoint)
        conversation = Conversation(spec.conversation, f"{self.run_id}-{case.id}-{endpoint}-{repeat}-{sample}")
        for turn_input, turn_checks in case.turns:
            try:
                request, case_input = self._request(case, spec, endpoint, turn_input, conversation)
                outcome = await self._deliver(request)
            except HarnessError as exc:
                side.error = exc
                return side
            conversation.answered(outcome.text)
            turn = TurnResult(outcome=outcome)
            side.turns.append(turn)
            if any(p.kind in _NO_OUTPUT for p in outcome.problems):
                # Nothing to judge: the delivery problem is the failure; checks would only repeat it.
                return side
            for name, arg in case.checks + turn_checks:
                if get_check(name).scope == "side":
                    ctx = CheckContext(
                        case_id=case.id,
                        endpoint=endpoint,
                        outcome=outcome,
                        input=case_input,
                        settings=self.check_settings,
                    )
                    turn.checks.append(await run_check(name, ctx, arg))
        return side

    async def _deliver(self, request: Request) -> Outcome:
        return await deliver_request(self._client, request, self._adapters, self._receiver)

    async def _parity(self, case: ResolvedCase, qa_runs: list[SideRun], prod_runs: list[SideRun]) -> ParityRun:
        qa, prod = qa_runs[0], prod_runs[0]
        parity = ParityRun()
        for name, side in (("qa", qa), ("prod", prod)):
            if side.error is not None or len(side.turns) < len(case.turns):
                parity.blocked = f"cannot compare: {name} delivered no output ({side.error})"
                return parity
            undelivered = [p.kind for t in side.turns for p in t.outcome.problems if p.kind in _NO_OUTPUT]
            if undelivered:
                parity.blocked = f"cannot compare: {name} delivered no output ({', '.join(undelivered)})"
                return parity
        for index, (_, turn_checks) in enumerate(case.turns):
            qa_out, prod_out = qa.turns[index].outcome, prod.turns[index].outcome
            noise_aware = case.parity.noise_samples >= 2
            samples = [run.turns[index].outcome for run in (*qa_runs, *prod_runs) if len(run.turns) > index]
            unjudged: ParityReport | None = None
            try:  # semantic parity's embeddings: network calls, on this loop, bounded by the embedder's timeout
                similarity = await parity_similarity(self.check_settings, case.parity.level, noise_aware, samples)
            except EmbeddingError as exc:
                similarity, unjudged = None, ParityReport(case.parity.level, False, f"parity not judged: {exc}")
            # Diffing two long texts is CPU work: off the loop that carries every case's deliveries.
            if unjudged is not None:
                report = unjudged
            elif noise_aware:
                report = await asyncio.to_thread(
                    compare_with_noise,
                    [run.turns[index].outcome for run in qa_runs if len(run.turns) > index],
                    [run.turns[index].outcome for run in prod_runs if len(run.turns) > index],
                    margin=case.parity.margin,
                    similarity=similarity,
                )
            else:
                report = await asyncio.to_thread(
                    compare,
                    case.parity.level,
                    qa_out,
                    prod_out,
                    threshold=case.parity.threshold,
                    ignore_paths=case.parity.ignore,
                    similarity=similarity,
                )
            parity.reports.append(report)
            for name, arg in case.checks + turn_checks:
                if get_check(name).scope == "pair":
                    ctx = CheckContext(
                        case_id=case.id,
                        endpoint="parity",
                        outcome=qa_out,
                        other=prod_out,
                        input=qa_out.request.get("body"),
                        settings=self.check_settings,
                    )
                    parity.checks.append(await run_check(name, ctx, arg))
        return parity

    def _request(
        self,
        case: ResolvedCase,
        spec: ServiceSpec,
        endpoint: str,
        turn_input: dict[str, Any] | None,
        conversation: Conversation,
    ) -> tuple[Request, Any]:
        """The request for one turn, and the case input it places (what checks see as the input)."""
        case_input: Any = None
        if case.case.raw_body is None:
            case_input = copy.deepcopy(case.case.input) if case.case.input is not None else {}
            try:
                case_input = conversation.place(case_input, turn_input)
            except ValueError as exc:
                raise HarnessUsageError(f"cannot build the {endpoint} request of case {case.id!r}: {exc}") from None
        request = build_request(
            self.target,
            spec,
            endpoint,
            body=case_input,
            raw_body=case.case.raw_body,
            headers=case.headers,
            auth=case.case.auth,
            timeout_s=case.timeout_s or self.timeout_s,
            max_bytes=self.max_response_bytes,
        )
        return request, case_input


class Conversation:
    """One endpoint's side of a multi-turn case: the id it sends, or the messages it has exchanged."""

    def __init__(self, spec: ConversationSpec | None, conversation_id: str) -> None:
        self.spec = spec
        self.conversation_id = conversation_id
        self.history: list[Any] = []
        self._sent: list[Any] = []

    def place(self, case_input: Any, turn_input: dict[str, Any] | None) -> Any:
        """The case input for this turn: the turn's fields merged over it, the conversation applied."""
        spec = self.spec
        pointer = spec.messages if spec is not None else None
        base = resolve_pointer(case_input, pointer) if pointer is not None else None
        new = resolve_pointer(turn_input, pointer) if pointer is not None and turn_input else None
        if isinstance(case_input, dict) and turn_input:
            case_input.update(copy.deepcopy(turn_input))
        if pointer is not None:
            # Per endpoint: its own earlier messages and its own assistant replies, then this turn's.
            self._sent = copy.deepcopy(new) if isinstance(new, list) else []
            messages = [*(base if isinstance(base, list) else []), *self.history, *self._sent]
            if base is not None or messages:
                set_pointer(case_input, pointer, copy.deepcopy(messages))
        elif spec is not None and isinstance(case_input, dict) and spec.id_field in case_input:
            # Per run and endpoint: QA and prod histories never mix, reruns never collide.
            case_input[str(spec.id_field)] = self.conversation_id
        return case_input

    def answered(self, text: str | None) -> None:
        """Record this turn's messages and the endpoint's reply for the next turn."""
        if self.spec is not None and self.spec.messages is not None:
            self.history += [*self._sent, {"role": "assistant", "content": text or ""}]
            self._sent = []


# Problems that mean nothing was delivered to judge: checks would only repeat them.
_NO_OUTPUT = {
    "timeout",
    "response_too_large",
    "callback_never_arrived",
    "callback_unsigned",
    "callback_bad_signature",
    "callback_replayed",
    "callback_too_large",
    "callback_flood",
    "stream_no_terminator",
    "stream_error_event",
    "stream_error_chunk",
    "stream_not_sse",
    "poll_no_job_id",
    "poll_status_failed",
    "poll_unknown_status",
}
