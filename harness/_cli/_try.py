"""``harness try``: one input to a service's endpoints, shown the way a spec author needs to see it.

For each endpoint: the request as ``curl`` (secrets masked), the transcript, the status, and every pointer
the spec declares with what it extracted. A pointer that found nothing says how far it got, which keys the
body has there, and which key of which spec file to fix. Deliveries go through the same ``build_request``
and adapters as a test run, bounded by the same delivery timeout.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness._delivery import CallbackReceiver, DeliveryAdapter, Request
from harness._delivery._outcome import Outcome
from harness._delivery._problems import PROBLEMS
from harness._errors import HarnessUsageError
from harness._model._pointer import explain_miss, parse_pointer, resolve_pointer
from harness._model._spec import EndpointSpec, ServiceSpec, parse_service_spec
from harness._model._specs import SPEC_FILENAME
from harness._model._yaml import LocatedDocument, read_located
from harness._report.curl import curl_command
from harness._report.excerpts import clip, short_repr
from harness._run._conversation import Conversation
from harness._run._options import DEFAULT_TIMEOUT_S
from harness._run._request import Auth, build_request, deliver_request
from harness._run._target import Target

MAX_TRANSCRIPT_LINES = 200
"""A long stream is shown head and tail: the middle rarely matters when debugging a spec."""
_VALUE_LIMIT = 160
_SETUP_MARGIN_S = 30.0
"""Beyond each delivery's own bound: time to start the callback receiver and open connections."""


@dataclass
class TryInput:
    """What to send: a JSON input or a case's, with the case's headers, auth and timeout."""

    body: Any = None
    raw_body: str | None = None
    turn: dict[str, Any] | None = None
    """A multi-turn case's first turn, merged over ``body`` as a test run does."""
    from_case: bool = False
    """Give the spec's conversation a fresh id per endpoint, as a test run does (an ``--input`` is sent as is)."""
    endpoints: tuple[str, ...] = ("qa", "prod")
    """The endpoints the case calls."""
    headers: dict[str, str | None] = field(default_factory=dict)
    auth: Auth = "default"
    timeout_s: float | None = None
    note: str = ""


@dataclass
class LoadedSpec:
    """A spec with the file it came from (for 'fix X in FILE:LINE')."""

    spec: ServiceSpec
    path: Path
    doc: LocatedDocument


@dataclass
class TryOptions:
    """Everything ``harness try`` was told."""

    base_url: str
    endpoints: tuple[str, ...] = ("qa", "prod")
    qa_token: str | None = None
    callback_secret: str | None = None
    callback_host: str = "127.0.0.1"
    callback_url: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S


# ---------------------------------------------------------------- finding the spec and the input


def load_spec(path: Path) -> LoadedSpec:
    """A spec file read and validated (``CaseFileError`` names file:line and the fix)."""
    if not path.is_file():
        raise HarnessUsageError(f"no service spec at {path}: pass --spec PATH to a {SPEC_FILENAME}")
    return LoadedSpec(parse_service_spec(path, str(path)), path, read_located(path, str(path)))


def find_spec(spec: Path | None, case_file: Path | None, service: str | None, roots: list[Path]) -> LoadedSpec:
    """``--spec``, else the spec beside ``--case`` or named by its ``service:``, else the only one under ``roots``."""
    if spec is not None:
        return load_spec(spec)
    candidates: list[Path] = []
    if case_file is not None and (case_file.parent / SPEC_FILENAME).is_file():
        candidates.append(case_file.parent / SPEC_FILENAME)
    for root in roots:
        candidates += sorted(root.rglob(SPEC_FILENAME)) if root.is_dir() else []
    candidates = list(dict.fromkeys(candidates))
    if service is not None:
        for path in candidates:
            loaded = load_spec(path)
            if loaded.spec.service == service:
                return loaded
        raise HarnessUsageError(
            f"no {SPEC_FILENAME} for service {service!r} under {', '.join(map(str, roots))}; pass --spec"
        )
    if case_file is not None and candidates and candidates[0].parent == case_file.parent:
        return load_spec(candidates[0])
    if len(candidates) == 1:
        return load_spec(candidates[0])
    if not candidates:
        raise HarnessUsageError(f"no {SPEC_FILENAME} under {', '.join(map(str, roots))}: pass --spec PATH")
    raise HarnessUsageError(
        f"{len(candidates)} service specs ({', '.join(map(str, candidates[:6]))}); pass --spec PATH to choose"
    )


def parse_input(text: str) -> TryInput:
    """``--input``: one JSON value, the case input."""
    try:
        return TryInput(body=json.loads(text))
    except ValueError as exc:
        raise HarnessUsageError(
            f'--input is not JSON ({exc}); quote it for the shell, e.g. --input \'{{"q": "hi"}}\''
        ) from None


def case_service(ref: str) -> tuple[Path, str, str | None]:
    """``FILE::ID`` split, and the ``service:`` the case file names (None: the spec beside it)."""
    from harness._model._case import parse_case_file

    file, sep, case_id = ref.rpartition("::")
    if not sep or not file or not case_id:
        raise HarnessUsageError(f"--case {ref!r}: write FILE::ID, e.g. cases/myservice/first.yaml::first")
    path = Path(file)
    if not path.is_file():
        raise HarnessUsageError(f"--case {ref!r}: no case file {file}")
    parsed, _ = parse_case_file(path, file)
    return path, case_id, parsed.service


def case_input(path: Path, case_id: str, service: str) -> TryInput:
    """The first turn of case ``case_id`` in ``path``: its input (or raw body), headers, auth and timeout."""
    from harness._model._case import parse_case_file, resolve_cases

    parsed, doc = parse_case_file(path, str(path))
    cases = resolve_cases(parsed, doc, service)
    case = next((c for c in cases if c.id == case_id), None)
    if case is None:
        known = ", ".join(c.id for c in cases[:20]) or "none"
        raise HarnessUsageError(f"no case {case_id!r} in {path} (its cases: {known})")
    first_turn, _ = case.turns[0]
    note = f"turn 1 of {len(case.turns)} (try sends one input)" if len(case.turns) > 1 else ""
    return TryInput(
        body=case.case.input if case.case.input is not None else {},
        turn=first_turn,
        from_case=True,
        raw_body=case.case.raw_body,
        headers=dict(case.headers),
        auth=case.case.auth,
        timeout_s=case.timeout_s,
        note=note,
        endpoints=tuple(case.case.endpoints),
    )


# ---------------------------------------------------------------- delivering


def run_try(loaded: LoadedSpec, sent: TryInput, options: TryOptions, write: Callable[[str], None]) -> int:
    """Deliver ``sent`` to each endpoint, print what happened; 0 when nothing is wrong, 1 otherwise.

    Raises ``ServiceUnreachable`` when an endpoint cannot be reached at all.
    """
    timeout_s = sent.timeout_s or options.timeout_s
    wanting = [e for e in options.endpoints if loaded.spec.endpoint(e).auth == "qa_token" and sent.auth == "default"]
    if wanting and not options.qa_token:
        raise HarnessUsageError(
            f"{wanting[0]}.auth is qa_token in {loaded.path}: give --qa-token TOKEN (or set HARNESS_QA_TOKEN)"
        )
    target = Target(options.base_url, qa_token=options.qa_token, callback_secret=options.callback_secret)
    requests = [
        build_request(
            target,
            loaded.spec,
            endpoint,
            body=_body(loaded.spec, sent, endpoint),
            raw_body=sent.raw_body,
            headers=sent.headers,
            auth=sent.auth,
            timeout_s=timeout_s,
        )
        for endpoint in options.endpoints
    ]
    heading = f"service {loaded.spec.service} ({loaded.path}) at {options.base_url}"
    failed = False
    for number, request in enumerate(requests):
        outcome = _deliver_one(request, options, timeout_s)  # ServiceUnreachable: the caller says it in one line
        if number == 0:  # after the first delivery: an unreachable service is the one line the caller prints
            write(heading + (f"; {sent.note}" if sent.note else ""))
        failed |= not report(outcome, request.spec, loaded, write)
    write("")
    write(
        "result: "
        + ("a problem was found (see above)" if failed else "every endpoint delivered and every pointer matched")
    )
    return 1 if failed else 0


def _body(spec: ServiceSpec, sent: TryInput, endpoint: str) -> Any:
    """The input one endpoint is sent: a case's as a test run places it, an ``--input`` as given."""
    if sent.raw_body is not None:
        return None
    body = copy.deepcopy(sent.body)
    if not sent.from_case:
        return body
    conversation = Conversation(spec.conversation, f"try-{endpoint}-{secrets.token_hex(6)}")
    try:
        return conversation.place(body, sent.turn)
    except ValueError as exc:
        raise HarnessUsageError(f"cannot build the {endpoint} request: {exc}") from None


def _deliver_one(request: Request, options: TryOptions, timeout_s: float) -> Outcome:
    """Deliver on a loop of its own: ``try`` is one process, one request at a time."""

    async def go() -> Outcome:
        """One delivery with its own client and, for a callback, its own receiver."""
        receiver: CallbackReceiver | None = None
        if request.spec.delivery == "callback":
            receiver = CallbackReceiver(
                host=options.callback_host, public_url=options.callback_url, secret=options.callback_secret
            )
            await asyncio.to_thread(receiver.start)
        adapters: dict[str, DeliveryAdapter] = {}
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=10.0)) as client:
                return await asyncio.wait_for(
                    deliver_request(client, request, adapters, receiver), timeout_s + _SETUP_MARGIN_S
                )
        finally:
            if receiver is not None:
                await asyncio.to_thread(receiver.stop)

    return asyncio.run(go())


# ---------------------------------------------------------------- showing it


def report(outcome: Outcome, spec: EndpointSpec, loaded: LoadedSpec, write: Callable[[str], None]) -> bool:
    """Print one endpoint's delivery; True when it delivered with no problem and every pointer matched."""
    endpoint = outcome.endpoint
    write("")
    write(f"== {endpoint}: {spec.method} {outcome.request.get('url', '')} ({spec.delivery})")
    write("-- request")
    write(curl_command(outcome.request, stream=spec.delivery == "sse"))
    write("-- transcript")
    lines = outcome.transcript
    if len(lines) > MAX_TRANSCRIPT_LINES:
        half = MAX_TRANSCRIPT_LINES // 2
        lines = [*lines[:half], f"... {len(lines) - 2 * half} more lines ...", *lines[-half:]]
    for line in lines:
        write("  " + clip(line, 400))
    timing = f" in {outcome.timings.total_s:.2f} s" if outcome.timings.total_s is not None else ""
    write(f"-- status: {outcome.status if outcome.status is not None else 'no response'}{timing}")
    ok = True
    if outcome.status is not None and not outcome.succeeded:
        write(f"   not a 2xx answer: {short_repr(outcome.body)}; pointers are read only from a successful answer")
        ok = False
    write("-- pointers")
    if outcome.succeeded:
        for line, matched in pointer_lines(outcome, spec, loaded):
            write("  " + line)
            ok &= matched
    else:
        write("  (not read)")
    write("-- problems")
    if not outcome.problems:
        write("  none")
    for problem in outcome.problems:
        ok = False
        if problem.kind == "output_missing":
            write("  output_missing: see output.text under pointers")  # its message repeats that line
            continue
        write(f"  {problem.kind}: {problem.message}")
        key = PROBLEMS[problem.kind].spec_key
        if problem.kind == "poll_no_job_id" and spec.poll is not None:
            # The body is still the submit answer: say what it has instead.
            write(
                "    "
                + _unmatched(
                    outcome.body,
                    "poll.job_id",
                    spec.poll.job_id,
                    "the submit answer",
                    endpoint,
                    ("poll", "job_id"),
                    loaded,
                )
            )
        elif key:
            path = (endpoint, *key.split(" ")[0].split("."))
            write(f"    fix `{'.'.join(path)}` in {_where(loaded, path)}")
    return ok


def pointer_lines(outcome: Outcome, spec: EndpointSpec, loaded: LoadedSpec) -> list[tuple[str, bool]]:
    """One line per pointer the endpoint's spec declares: what it extracted, or why nothing and what to fix."""
    endpoint = outcome.endpoint
    found: list[tuple[str, bool]] = []
    stream = spec.delivery == "sse"

    def line(key: tuple[str, ...], pointer: str, value: Any, where: str = "the body") -> None:
        """What the pointer at ``key`` extracted, or why it found nothing."""
        name = ".".join(key)
        if value is not None:
            found.append((f"{name} {pointer} -> {short_repr(value, _VALUE_LIMIT)}", True))
            return
        found.append((_unmatched(outcome.body, name, pointer, where, endpoint, key, loaded), False))

    if stream:
        found.append(
            (f"text (the stream's deltas) -> {short_repr(outcome.text, _VALUE_LIMIT)}", outcome.text is not None)
        )
        if spec.sse.delta == "json" and spec.sse.text:
            found[-1] = (
                f"sse.text {spec.sse.text} (in each chunk) -> {short_repr(outcome.text, _VALUE_LIMIT)}",
                outcome.text is not None,
            )
    elif spec.output.text is not None:
        line(("output", "text"), spec.output.text, outcome.text)
    where = "the stream's last JSON event" if stream else "the body"
    if spec.output.sources is not None:
        line(("output", "sources"), spec.output.sources, outcome.sources, where)
    for name, pointer in spec.output.metadata.items():
        line(("output", "metadata", name), pointer, outcome.metadata.get(name), where)
    if spec.delivery == "callback":
        callback = spec.callback
        line(
            ("callback", "payload_id"),
            callback.payload_id,
            resolve_pointer(outcome.body, callback.payload_id),
            "the callback payload",
        )
        if callback.status is not None:
            line(
                ("callback", "status"),
                callback.status,
                resolve_pointer(outcome.body, callback.status),
                "the callback payload",
            )
    if spec.delivery == "poll" and spec.poll is not None and not outcome.problems:
        # Polling only gets this far when both matched: the job id (in the status requests of the transcript)
        # and a success value at the status pointer.
        poll = spec.poll
        found.append((f"poll.job_id {poll.job_id} -> found in the submit answer (see the status requests)", True))
        found.append((f"poll.status.pointer {poll.status.pointer} -> one of {poll.status.success}", True))
    if not found:
        found.append(("(the spec declares no output pointers)", True))
    unread = _unread_keys(outcome.body, spec)
    if unread and all(matched for _, matched in found):
        # Not a problem: a hint that the answer carries more than the spec records (sources, a model version).
        found.append((f"also in {where}, not read by the spec: {', '.join(unread)}", True))
    return found


def _unread_keys(body: Any, spec: EndpointSpec) -> list[str]:
    """Top-level keys of ``body`` that no pointer of the endpoint starts with."""
    if not isinstance(body, dict):
        return []
    pointers = [spec.output.text, spec.output.sources, *spec.output.metadata.values()]
    if spec.delivery == "callback":
        pointers += [spec.callback.payload_id, spec.callback.status]
    read = {parse_pointer(p)[0] for p in pointers if p}
    return sorted(str(key) for key in body if key not in read)[:20]


def _unmatched(
    body: Any, name: str, pointer: str, where: str, endpoint: str, key: tuple[str, ...], loaded: LoadedSpec
) -> str:
    """Why ``pointer`` found nothing in ``body``: how far it resolved, the keys there, the spec key to fix."""
    fix = _fix(loaded, endpoint, key)
    if body is None:
        return f"{name} `{pointer}` matched nothing: {where} is empty or not JSON — {fix}"
    miss = explain_miss(body, pointer)
    # explain_miss calls the top of the document "the body"; an SSE event or a submit answer is named as such.
    if miss.startswith("the body ") and where != "the body":
        miss = where + miss.removeprefix("the body")
    elif where != "the body":
        miss += f" (in {where})"
    return f"{name} `{pointer}` matched nothing: {miss} — {fix}"


def _spec_path(loaded: LoadedSpec, endpoint: str, key: tuple[str, ...]) -> tuple[str, ...]:
    """Where the pointer is written in the file: under the endpoint, at the service level (``output``), or nowhere."""
    data = loaded.doc.data if isinstance(loaded.doc.data, dict) else {}
    if _has_path(data, (endpoint, *key)):
        return (endpoint, *key)
    if key[0] == "output" and _has_path(data, key):
        return key
    return (endpoint, *key)


def _fix(loaded: LoadedSpec, endpoint: str, key: tuple[str, ...]) -> str:
    """Which key of which file to change: where the pointer is written, else where to write one."""
    path = _spec_path(loaded, endpoint, key)
    data = loaded.doc.data if isinstance(loaded.doc.data, dict) else {}
    written = ".".join(path)
    if _has_path(data, path):
        return f"fix `{written}` in {_where(loaded, path)}"
    origin = "the preset's" if data.get("preset") is not None else "the default"
    return f"the pointer is {origin}: write `{written}` in {loaded.path} to override it"


def _where(loaded: LoadedSpec, path: tuple[str, ...]) -> str:
    """The spec file, with the line of ``path`` when the file writes it."""
    line = loaded.doc.line_of(path) if isinstance(loaded.doc.data, dict) and _has_path(loaded.doc.data, path) else None
    return f"{loaded.path}:{line}" if line else str(loaded.path)


def _has_path(data: Any, path: tuple[str, ...]) -> bool:
    """Whether the mapping ``data`` has the nested keys ``path``."""
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True
