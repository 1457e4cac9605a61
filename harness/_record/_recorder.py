"""Observed exchanges to cases: the endpoint matched, the input recovered and scrubbed, the answer kept.

Every request is accounted for: a case recorded, a duplicate of an input already recorded, left out by
the sampling rate or the case limit, or not mappable (with the reason), so the summary adds up to the
requests seen. The case file is rewritten after every new case (atomically), so stopping the recording at
any moment leaves a valid file with everything recorded until then.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness._delivery._outcome import Outcome
from harness._model._case import GoldenLevel, GoldenOutput
from harness._model._spec import ServiceSpec
from harness._record import DEFAULT_MAX_BODY_BYTES
from harness._record._casefile import render_case, render_case_file, write_atomically
from harness._record._exchange import Exchange, outcome_of, output_observed
from harness._record._inverse import Unmappable, recover_input
from harness._record._noise import golden_from
from harness._record._privacy import Scrubber
from harness._run._request import build_body


@dataclass
class RecordSettings:
    """How a recording samples, bounds and writes what it sees."""

    out: Path
    sample_rate: float = 1.0
    max_cases: int | None = None
    samples: int = 1
    """Answers per input: with 2 or more, the noise between them is learned (sync and SSE endpoints)."""
    level: GoldenLevel | None = None
    """Force the golden outputs' level; None: learned (normalized, or semantic when the answers vary)."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    source: str = ""
    """Where the traffic came from, for the file's header (an upstream URL, a HAR file)."""
    seed: int | None = None
    """Seed of the sampling decisions (tests); None: random."""


@dataclass
class Plan:
    """A request the spec maps to a case: what the recorder needs once the answers are in."""

    endpoint: str
    key: str
    input: Any
    exchange: Exchange
    outcome: Outcome
    scrubbed: bool = False
    """The input was changed (personal data replaced, a token masked): it replays as a different request."""


@dataclass
class Tally:
    """What became of every request seen."""

    requests: int = 0
    recorded: int = 0
    completed: int = 0
    """Answers that gave a case recorded without output (a callback job's) its golden output."""
    duplicates: int = 0
    sampled_out: int = 0
    over_limit: int = 0
    unmapped: Counter[str] = field(default_factory=Counter)
    """Reasons a request could not become a case, counted."""

    def lines(self) -> list[str]:
        """The summary, one line per kind, reasons listed most frequent first."""
        lines = [
            f"{self.requests} request(s) seen: {self.recorded} case(s) recorded, {self.completed} golden output(s) "
            f"added to a case recorded without one, {self.duplicates} duplicate "
            f"input(s), {self.sampled_out} left out by the sampling rate, {self.over_limit} over the case limit, "
            f"{sum(self.unmapped.values())} not mappable"
        ]
        lines += [f"  not mappable ({count}): {reason}" for reason, count in self.unmapped.most_common()]
        return lines


class Recorder:
    """Turns exchanges with one service into the cases of one file; thread-safe."""

    def __init__(self, spec: ServiceSpec, settings: RecordSettings, scrubber: Scrubber | None = None) -> None:
        self.spec = spec
        self.settings = settings
        self.scrubber = scrubber or Scrubber()
        self.tally = Tally()
        self._cases: dict[str, dict[str, Any]] = {}
        self._pending: set[str] = set()
        self._rendered: dict[str, str] = {}
        """Each case's YAML, rendered once: rewriting the file costs a join, not a dump of every case."""
        self._order: list[str] = []
        """Keys in the order their requests arrived: the file lists cases so, whenever their samples end."""
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        """Held while the file is replaced: planning never waits for a disk."""
        self._latest = ""
        self._random = random.Random(settings.seed)
        self._started = datetime.now(UTC).isoformat(timespec="seconds")

    # ---------------------------------------------------------------- matching

    def endpoint_of(self, method: str, path: str) -> str | None:
        """Which endpoint of the spec a request is for (QA first), or None."""
        for name in ("qa", "prod"):
            endpoint = self.spec.endpoint(name)
            if endpoint.method == method.upper() and endpoint.path.rstrip("/") == path.rstrip("/"):
                return name
        return None

    def wants_samples(self, plan: Plan) -> int:
        """How many more answers to ask for ``plan``'s request (only where the response is the output)."""
        if self.settings.samples < 2 or plan.outcome.delivery not in ("sync", "sse") or not plan.outcome.succeeded:
            return 0
        return self.settings.samples - 1

    def sample_body(self, plan: Plan) -> bytes:
        """The body to send ``plan``'s request again with: the request as the case will replay it.

        That is the scrubbed input when scrubbing changed it (a stand-in where an email was: the answer may
        differ), and a new conversation where the spec has one (a sample sent with the recorded id would be a
        follow-up to the recorded question, not the same question asked again).
        """
        id_field = self.spec.conversation.id_field if self.spec.conversation else None
        if id_field is None and not plan.scrubbed:
            return plan.exchange.request_body
        spec = self.spec.endpoint(plan.endpoint)
        case_input = (
            copy.deepcopy(plan.input) if plan.scrubbed else recover_input(spec, json.loads(plan.exchange.request_body))
        )
        if id_field is not None and isinstance(case_input, dict) and id_field in case_input:
            case_input[id_field] = str(uuid.uuid4())
        return json.dumps(build_body(spec, case_input)).encode("utf-8")

    def plan(self, exchange: Exchange) -> Plan | None:
        """A plan to record ``exchange`` as a case, or None with the reason counted."""
        with self._lock:
            self.tally.requests += 1
            plan = self._plan(exchange)
            if plan is not None:
                self._pending.add(plan.key)
            return plan

    def _plan(self, exchange: Exchange) -> Plan | None:
        endpoint = self.endpoint_of(exchange.method, exchange.path)
        if endpoint is None:
            return self._unmapped(self._why_not_endpoint(exchange))
        spec = self.spec.endpoint(endpoint)
        for name in ("authorization", "x-api-key", "api-key"):
            if exchange.header(name):
                value = exchange.header(name)
                self.scrubber.add_secret(value.partition(" ")[2] or value)
        if len(exchange.request_body) > self.settings.max_body_bytes:
            return self._unmapped(f"request body over the recording bound ({self.settings.max_body_bytes:,} bytes)")
        if exchange.truncated or len(exchange.response_body) > self.settings.max_body_bytes:
            return self._unmapped(f"response over the recording bound ({self.settings.max_body_bytes:,} bytes)")
        if exchange.status is None:
            return self._unmapped("no response from the service")
        try:
            body = json.loads(exchange.request_body) if exchange.request_body else None
        except ValueError:
            return self._unmapped(f"{endpoint} request body is not JSON")
        try:
            case_input = recover_input(spec, body)
        except Unmappable as exc:
            return self._unmapped(f"{endpoint}: {exc}")
        if not isinstance(case_input, dict):
            return self._unmapped(f"{endpoint}: the input recovered is not an object (case input is a mapping)")
        scrubbed = self.scrubber.scrub(case_input)
        changed, case_input = scrubbed != case_input, scrubbed
        key = self._key(case_input)
        outcome = outcome_of(exchange, spec, endpoint)
        known = self._cases.get(key)
        observed = output_observed(outcome)
        if key in self._pending or (known is not None and ("golden" in known or not observed)):
            self.tally.duplicates += 1
            return None
        if known is None:
            if self.settings.max_cases is not None and len(self._cases) + len(self._pending) >= self.settings.max_cases:
                self.tally.over_limit += 1
                return None
            if self.settings.sample_rate < 1.0 and self._random.random() >= self.settings.sample_rate:
                self.tally.sampled_out += 1
                return None
        if known is None:
            self._order.append(key)
        return Plan(endpoint, key, case_input, exchange, outcome, scrubbed=changed)

    def _key(self, case_input: dict[str, Any]) -> str:
        """What makes two inputs the same: all of it but the conversation id (a replay sends a fresh one)."""
        id_field = self.spec.conversation.id_field if self.spec.conversation else None
        compared = {k: v for k, v in case_input.items() if k != id_field}
        return hashlib.sha256(json.dumps(compared, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def _why_not_endpoint(self, exchange: Exchange) -> str:
        for name in ("qa", "prod"):
            poll = self.spec.endpoint(name).poll
            if poll is not None:
                stems = [p.path.split("{id}")[0] for p in (poll.status, poll.result) if p is not None]
                if any(stem and exchange.path.startswith(stem.rstrip("/")) for stem in stems):
                    return f"a {name} job poll (passed through; the job's request is the case)"
        return f"no endpoint of {self.spec.service!r} at {exchange.method} {exchange.path}"

    def _unmapped(self, reason: str) -> Plan | None:
        self.tally.unmapped[reason] += 1
        return None

    # ---------------------------------------------------------------- recording

    def record(self, plan: Plan, samples: list[Outcome] | None = None) -> dict[str, Any]:
        """Record ``plan`` with the extra answers to its request, write the file, return the case."""
        with self._lock:
            self._pending.discard(plan.key)
            case = self._cases.get(plan.key)
            if case is None:
                case = {"id": f"rec-{plan.key[:10]}", "description": "", "input": plan.input}
                self._cases[plan.key] = case
                self.tally.recorded += 1
            else:
                self.tally.completed += 1
            exchange, outcome = plan.exchange, plan.outcome
            said = f"{plan.endpoint}: {exchange.method} {exchange.path} -> {exchange.status}"
            if output_observed(outcome):
                golden = self._golden(plan, samples or [])
                case["golden"] = {"level": golden.level, **golden.model_dump(exclude_none=True, exclude_defaults=True)}
                if not outcome.succeeded:
                    case["checks"] = [{"status": outcome.status}]
                case["description"] = f"recorded from {said}"
            elif not case["description"]:
                case["description"] = f"recorded from {said}; output not observed (delivered elsewhere)"
            self._rendered[plan.key] = render_case(_ordered(case))
            text = self._text()
        self._write(text)
        return case

    def _golden(self, plan: Plan, samples: list[Outcome]) -> GoldenOutput:
        """The golden output: of the answers to the input as it will replay, with the noise between them.

        When scrubbing changed the input, the observed answer was to another request: the samples (sent with the
        scrubbed input) are the answers that count; with none, the observed answer is kept at ``semantic``, as the
        closest known answer, unless ``--level`` says otherwise.
        """
        answers = [o for o in samples if output_observed(o)]
        if plan.scrubbed and answers:
            return golden_from(answers, level=self.settings.level, scrub=self.scrubber.scrub)
        level = self.settings.level or ("semantic" if plan.scrubbed and plan.outcome.succeeded else None)
        return golden_from([plan.outcome, *answers], level=level, scrub=self.scrubber.scrub)

    def abandon(self, plan: Plan) -> None:
        """A planned request that could not be completed (the client went away): counted, not recorded."""
        with self._lock:
            self._pending.discard(plan.key)
            self.tally.unmapped["the exchange did not complete"] += 1

    def write(self) -> None:
        """Write the case file now (also when nothing was recorded: the file says so)."""
        with self._lock:
            text = self._text()
        self._write(text)

    def _write(self, text: str) -> None:
        """Replace the file with ``text`` unless a newer text has been written (writes race outside the lock)."""
        with self._write_lock:
            if text is self._latest:
                write_atomically(self.settings.out, text)

    def _text(self) -> str:
        """The file's text now (under the lock); it becomes the latest to write."""
        header = [
            f"Recorded by `harness record` from {self.settings.source or 'traffic'} since {self._started}.",
            "Inputs are scrubbed: credentials masked, emails and phone numbers replaced by stand-ins.",
            *self.tally.lines(),
        ]
        cases = [self._rendered[key] for key in self._order if key in self._rendered]
        self._latest = render_case_file(self.spec.service, cases, header)
        return self._latest


_CASE_KEY_ORDER = ("id", "description", "input", "checks", "golden")


def _ordered(case: dict[str, Any]) -> dict[str, Any]:
    return {key: case[key] for key in _CASE_KEY_ORDER if key in case}
