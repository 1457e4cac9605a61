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
from collections.abc import Iterable
from typing import Any

import httpx

from harness._delivery import CallbackReceiver, DeliveryAdapter, Request
from harness._delivery._outcome import Outcome
from harness._delivery._problems import blocks_output
from harness._errors import HarnessError, HarnessUsageError
from harness._model._case import GoldenOutput, ResolvedCase
from harness._model._spec import ServiceSpec
from harness._run._conversation import Conversation
from harness._run._imports import warm
from harness._run._options import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_S
from harness._run._request import build_request, deliver_request
from harness._run._results import CaseResult, CaseRun, ParityRun, SideRun, TurnResult, judge_answer
from harness._run._slots import Slots
from harness._run._target import Target
from harness._verdict._checks import CheckContext, CheckResult, CheckSettings, get_check, run_check
from harness._verdict._embeddings import EmbeddingError, parity_similarity, wants_embeddings
from harness._verdict._golden import compare_golden, golden_outcome
from harness._verdict._parity import ParityReport, compare, compare_with_noise

_OUTER_MARGIN_S = 60.0
"""Added to a case's own delivery bounds for the outer wait, which only guards against a bug in the runner."""


class CaseRunner:
    """Runs resolved cases on a background loop; thread-safe ``submit`` and ``close``."""

    def __init__(
        self,
        target: Target,
        specs: dict[str, ServiceSpec],
        *,
        concurrency: int = 8,
        timeout_s: float = DEFAULT_TIMEOUT_S,
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
        return (case.timeout_s or self.timeout_s) * deliveries + _OUTER_MARGIN_S

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
            judge_answer(case, outcome, request.secrets)
            turn = TurnResult(outcome=outcome)
            side.turns.append(turn)
            blocking = [p.kind for p in outcome.problems if blocks_output(p.kind)]
            if blocking:
                # Nothing to judge: the problem is the failure, named once; each check says it did not run.
                reason = f"not run: no output ({', '.join(dict.fromkeys(blocking))})"
                turn.checks = [
                    CheckResult(name, True, reason, 0.0, skipped=True) for name, _ in case.checks + turn_checks
                ]
                return side
            for name, arg in case.checks + turn_checks:
                if get_check(name).scope == "side":
                    ctx = CheckContext(
                        case_id=case.id,
                        endpoint=endpoint,
                        outcome=outcome,
                        input=case_input,
                        settings=self.check_settings,
                        expects_error=case.expects_error,
                    )
                    turn.checks.append(await run_check(name, ctx, arg))
            if case.case.golden is not None:
                turn.golden = await self._golden(case.case.golden, outcome)
        return side

    async def _golden(self, golden: GoldenOutput, outcome: Outcome) -> ParityReport:
        """The outcome against the case's golden output (embeddings for semantic when configured)."""
        try:
            similarity = await parity_similarity(
                self.check_settings, golden.level, False, [outcome, golden_outcome(golden)]
            )
        except EmbeddingError as exc:
            return ParityReport(golden.level, False, f"golden output not judged: {exc}")
        return await asyncio.to_thread(compare_golden, golden, outcome, similarity=similarity)

    async def _deliver(self, request: Request) -> Outcome:
        return await deliver_request(self._client, request, self._adapters, self._receiver)

    async def _parity(self, case: ResolvedCase, qa_runs: list[SideRun], prod_runs: list[SideRun]) -> ParityRun:
        qa, prod = qa_runs[0], prod_runs[0]
        parity = ParityRun()
        for name, side in (("qa", qa), ("prod", prod)):
            if side.error is not None or len(side.turns) < len(case.turns):
                parity.blocked = f"cannot compare: {name} delivered no output ({side.error})"
                return parity
            undelivered = [p.kind for t in side.turns for p in t.outcome.problems if blocks_output(p.kind)]
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
                        expects_error=case.expects_error,
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
