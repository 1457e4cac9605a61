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
import os
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness._case import ResolvedCase
from harness._checks import CheckContext, CheckResult, CheckSettings, get_check, run_check
from harness._delivery import CallbackReceiver, Request, get_adapter
from harness._errors import HarnessError, HarnessUsageError
from harness._outcome import Outcome
from harness._parity import ParityReport, compare, compare_with_noise
from harness._pointer import resolve_pointer, set_pointer
from harness._spec import INPUT_PLACEHOLDER, ConversationSpec, EndpointSpec, ServiceSpec, env_references, expand_env


@dataclass(frozen=True)
class Target:
    """Where the services under test live and the secrets they expect."""

    base_url: str
    qa_token: str | None = None
    callback_secret: str | None = None
    local_urls: dict[str, str] = field(default_factory=dict)
    """URLs of services started in-process besides the gateway, by name (``model``), for ``base_url: local:NAME``."""


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
        lines = [f"{p.kind}: {p.message}" for p in self.outcome.problems]
        lines += [f"{c.name}: {c.message}" for c in self.checks if not c.passed]
        return lines


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
        parts = []
        for number, report in enumerate(self.reports, 1):
            if report.passed:
                continue
            prefix = f"turn {number}: " if len(self.reports) > 1 else ""
            parts.append(f"{prefix}{report.level} parity failed: {report.summary}")
            if report.text_diff:
                parts.append(report.text_diff)
            if report.json_diff:
                parts.append(report.json_diff)
        parts += [f"{c.name}: {c.message}" for c in self.checks if not c.passed]
        return "\n".join(parts)


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
    ) -> None:
        self.target = target
        self.specs = specs
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.repeat = repeat
        self.check_settings = check_settings or CheckSettings()
        self.run_id = run_id or secrets.token_hex(4)
        self._futures: dict[str, concurrent.futures.Future[CaseResult]] = {}
        self._lock = threading.Lock()
        self._receiver: CallbackReceiver | None = None
        if any(spec.endpoint(ep).delivery == "callback" for spec in specs.values() for ep in ("qa", "prod")):
            # Started here, on the caller's thread, so its start-up never blocks the runner's loop.
            self._receiver = CallbackReceiver(
                host=callback_host, public_url=callback_url, secret=target.callback_secret
            )
            self._receiver.start()
        self.env_secrets = _env_secrets(specs.values())
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="harness-runner", daemon=True)
        self._thread.start()
        self._ready = self._call(self._open())

    # ---------------------------------------------------------------- lifecycle (caller thread)

    def _call(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _open(self) -> None:
        self._semaphore = asyncio.Semaphore(self.concurrency)
        limits = httpx.Limits(
            max_connections=max(4 * self.concurrency, 20),
            max_keepalive_connections=self.concurrency,
            # Drop idle connections well before servers commonly close them (uvicorn's default is 5 s), so a
            # request never goes out on a connection the server is closing at that moment.
            keepalive_expiry=2.0,
        )
        self._client = httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(self.timeout_s, connect=10.0))
        self._adapters = {
            delivery: get_adapter(delivery, receiver=self._receiver)
            for delivery in ("sync", "sse", "poll", "callback")
            if delivery != "callback" or self._receiver is not None
        }

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
    def secrets(self) -> tuple[str, ...]:
        """Values to mask everywhere: the QA token, the callback secret, values read from the environment."""
        known = [s for s in (self.target.qa_token, self.target.callback_secret) if s]
        return tuple(dict.fromkeys([*known, *self.env_secrets]))

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
                future = asyncio.run_coroutine_threadsafe(self._run_case(case), self._loop)
                self._futures[case.key] = future
            return future

    def submit_all(self, cases: Iterable[ResolvedCase]) -> None:
        """Start many cases; they queue on the concurrency bound in this order."""
        for case in cases:
            self.submit(case)

    def result(self, case: ResolvedCase) -> CaseResult:
        """Wait for the case's result, bounded by its own timeouts."""
        repeats = self._repeats(case)
        turns = len(case.turns)
        samples = max(1, case.parity.noise_samples)
        # Every delivery is bounded; this outer bound only guards against a bug in the runner itself.
        bound = (case.timeout_s or self.timeout_s) * turns * repeats * samples + 60.0
        return self.submit(case).result(timeout=bound)

    # ---------------------------------------------------------------- running (loop thread)

    def _repeats(self, case: ResolvedCase) -> int:
        return max(case.repeat, self.repeat or 1) if case.case.repeat is None else case.repeat

    async def _run_case(self, case: ResolvedCase) -> CaseResult:
        runs = await asyncio.gather(*(self._run_once(case, n) for n in range(self._repeats(case))))
        return CaseResult(case=case, runs=list(runs))

    async def _run_once(self, case: ResolvedCase, repeat: int) -> CaseRun:
        async with self._semaphore:
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
        endpoint_spec = spec.endpoint(endpoint)
        conversation = Conversation(spec.conversation, f"{self.run_id}-{case.id}-{endpoint}-{repeat}-{sample}")
        for turn_input, turn_checks in case.turns:
            try:
                request, case_input = self._request(case, spec, endpoint_spec, endpoint, turn_input, conversation)
                outcome = await self._adapters[endpoint_spec.delivery].deliver(self._client, request)
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
            # Diffing two long texts is CPU work: off the loop that carries every case's deliveries.
            if case.parity.noise_samples >= 2:
                report = await asyncio.to_thread(
                    compare_with_noise,
                    [run.turns[index].outcome for run in qa_runs if len(run.turns) > index],
                    [run.turns[index].outcome for run in prod_runs if len(run.turns) > index],
                    margin=case.parity.margin,
                )
            else:
                report = await asyncio.to_thread(
                    compare,
                    case.parity.level,
                    qa_out,
                    prod_out,
                    threshold=case.parity.threshold,
                    ignore_paths=case.parity.ignore,
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
        endpoint_spec: EndpointSpec,
        endpoint: str,
        turn_input: dict[str, Any] | None,
        conversation: Conversation,
    ) -> tuple[Request, Any]:
        """The request for one turn, and the case input it places (what checks see as the input)."""
        secret_values = list(self.secrets)
        headers: dict[str, str] = {}
        for name, template in endpoint_spec.headers.items():
            headers[name], used = _expand(template, f"{spec.service} {endpoint} header {name}")
            secret_values += used
        omit: set[str] = set()
        for name, value in case.headers.items():
            if value is None:
                omit.add(name)
            else:
                headers[name] = value
        if endpoint_spec.auth == "qa_token":
            headers.setdefault("Authorization", f"Bearer {self.target.qa_token or ''}")
        _apply_case_auth(headers, omit, case.case.auth)
        body: Any = None
        content: bytes | None = None
        case_input: Any = None
        if case.case.raw_body is not None:
            content = case.case.raw_body.encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            case_input = copy.deepcopy(case.case.input) if case.case.input is not None else {}
            try:
                case_input = conversation.place(case_input, turn_input)
                body = build_body(endpoint_spec, case_input)
            except ValueError as exc:
                raise HarnessUsageError(f"cannot build the {endpoint} request of case {case.id!r}: {exc}") from None
        base_url = self._base_url(spec, endpoint)
        return (
            Request(
                endpoint=endpoint,
                method=endpoint_spec.method,
                url=base_url + endpoint_spec.path,
                spec=endpoint_spec,
                base_url=base_url,
                headers=headers,
                omit_headers=frozenset(omit),
                json=body,
                content=content,
                timeout_s=case.timeout_s or self.timeout_s,
                secrets=tuple(dict.fromkeys(secret_values)),
            ),
            case_input,
        )

    def _base_url(self, spec: ServiceSpec, endpoint: str) -> str:
        """The spec's own base URL (``${NAME}`` expanded, ``local:NAME`` looked up), else the target's."""
        if spec.base_url is None:
            return self.target.base_url.rstrip("/")
        if spec.base_url.startswith("local:"):
            name = spec.base_url.removeprefix("local:")
            url = self.target.local_urls.get(name)
            if url is None:
                raise HarnessUsageError(
                    f"service {spec.service!r} has base_url {spec.base_url!r}, which exists only when the harness "
                    "starts the reference services in-process (no --base-url); deselect its cases "
                    "(e.g. --deselect cases/reference-model) or give the spec a real base_url"
                )
            return url.rstrip("/")
        url, _ = _expand(spec.base_url, f"{spec.service} base_url")
        return url.rstrip("/")


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


def _apply_case_auth(headers: dict[str, str], omit: set[str], auth: str) -> None:
    """A case's ``auth: none`` drops the Authorization header whatever set it; ``invalid`` sends a wrong one."""
    if auth == "none":
        for name in [n for n in headers if n.lower() == "authorization"]:
            del headers[name]
        omit.add("Authorization")
    elif auth == "invalid":
        for name in [n for n in headers if n.lower() == "authorization"]:
            headers[name] = "Bearer invalid-" + secrets.token_hex(8)


def _expand(template: str, where: str) -> tuple[str, list[str]]:
    """``${NAME}`` expanded; a variable unset since collection is a usage error naming it."""
    try:
        return expand_env(template)
    except KeyError as exc:
        name = exc.args[0]
        raise HarnessUsageError(f"{where} reads ${{{name}}}, which is not set: export {name}=...") from None


def _env_secrets(specs: Iterable[ServiceSpec]) -> list[str]:
    """The values every ``${NAME}`` in the specs reads: masked like the QA token."""
    values: list[str] = []
    for spec in specs:
        for where, names in env_references(spec).items():
            if where != ("base_url",):
                values += [os.environ[name] for name in names if os.environ.get(name)]
    return values


# Problems that mean nothing was delivered to judge: checks would only repeat them.
_NO_OUTPUT = {
    "timeout",
    "callback_never_arrived",
    "callback_unsigned",
    "callback_bad_signature",
    "callback_replayed",
    "callback_too_large",
    "stream_no_terminator",
    "stream_error_event",
    "stream_error_chunk",
    "stream_not_sse",
    "poll_no_job_id",
    "poll_status_failed",
    "poll_unknown_status",
}
