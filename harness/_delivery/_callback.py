"""Callback delivery: the service acknowledges a job at once and POSTs the result to a URL later."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import time

import httpx

from harness._delivery._base import Request
from harness._delivery._exchange import (
    delivery_errors,
    extract_output,
    is_success,
    new_outcome,
    quote_body,
    record_body,
    record_response,
    send,
    send_options,
    show_lines,
)
from harness._delivery._outcome import Outcome, Problem
from harness._delivery._receiver import KEPT_PER_JOB, CallbackDelivery, CallbackReceiver, CallbackSlot
from harness._delivery._signatures import HmacBodySignature, SignatureScheme
from harness._errors import HarnessUsageError, ServiceUnreachable
from harness._model._pointer import resolve_pointer, set_pointer
from harness._model._spec import CallbackSpec, HmacScheme, expand_env
from harness._report.masking import redact_headers

# Long enough for a service that sends the same result twice in a row to be caught on loopback,
# short enough not to slow a suite: every callback case pays it once.
DEFAULT_SETTLE_S = 0.3


class CallbackAdapter:
    """Sends a job request with a callback URL, reads the acknowledgement, waits for the delivery.

    The Outcome's ``status`` is the acknowledgement's, ``body`` the payload of the first authentic
    callback (signature valid, or none asked for); a ``failed`` job status is a normal outcome for the
    checks to judge. After that delivery the adapter keeps listening for ``settle_s`` to catch
    duplicates. Every wait is bounded by ``request.timeout_s`` from the moment the request is sent.

    Rejected deliveries (unsigned, badly signed or stale, replayed from another job, over the
    receiver's size limit, past the job's share of deliveries) never end the wait nor become the
    result: anyone who can reach the receiver can send them. They are listed in the transcript, and
    are a problem only when no authentic delivery arrives in time.

    Problems: ``callback_never_arrived``, ``callback_duplicate``, ``callback_late``,
    ``callback_wrong_id``, ``callback_bad_signature``, ``callback_unsigned``, ``callback_replayed``,
    ``callback_too_large``, ``callback_flood`` (past the job's share, ``KEPT_PER_JOB``, only counted),
    ``callback_bad_payload`` (not JSON), ``callback_no_ack_id`` (2xx
    acknowledgement without a job id), ``timeout`` (no acknowledgement in time), ``transport_error``.
    A non-2xx acknowledgement is recorded and returned without a problem.
    """

    delivery = "callback"

    def __init__(self, receiver: CallbackReceiver, *, settle_s: float = DEFAULT_SETTLE_S) -> None:
        self.receiver = receiver
        self.settle_s = settle_s

    async def deliver(self, client: httpx.AsyncClient, request: Request) -> Outcome:
        """Send ``request``, wait for its callback, and return the Outcome."""
        spec = request.spec.callback
        verify, signature = _scheme(spec, self.receiver.secret)
        slot = self.receiver.expect(verify=verify, signature=signature, id_header=spec.delivery_id_header)
        secrets = (*request.secrets, *((self.receiver.secret,) if self.receiver.secret else ()))
        extra = {spec.url_header: slot.url} if spec.url_header else {}
        if spec.url_pointer is not None:
            request = _with_url_in_body(request, spec.url_pointer, slot.url)
        outcome = new_outcome(request, self.delivery, extra)
        started = time.perf_counter()

        def no_ack() -> str:
            return f"no acknowledgement from {request.method} {outcome.request['url']} within {request.timeout_s:g} s"

        try:
            async with delivery_errors(request, outcome, no_ack) as exchange:
                response, content = await send(
                    client, request, request.method, request.url, **send_options(request, extra)
                )
        except ServiceUnreachable:
            slot.close()
            raise
        if not exchange.ok:
            slot.close()
            outcome.timings.total_s = time.perf_counter() - started
            return outcome
        outcome.timings.ack_s = time.perf_counter() - started
        record_response(outcome, response, request, outcome.timings.ack_s)
        record_body(outcome, content, request)
        if not is_success(response.status_code):
            # Rejected at once (e.g. 422): nothing will call back. The body is the error, for checks.
            slot.close()
            outcome.timings.total_s = outcome.timings.ack_s
            return outcome
        ack = outcome.body
        ack_id = resolve_pointer(ack, spec.ack_id)
        slot.job_id = None if ack_id is None else str(ack_id)
        if ack_id is None:
            outcome.problems.append(
                Problem(
                    "callback_no_ack_id",
                    f"the acknowledgement has no job id at {spec.ack_id}; deliveries are matched by callback URL only",
                )
            )
        outcome.body = None

        remaining = request.timeout_s - (time.perf_counter() - started)
        if await slot.wait(remaining):
            remaining = request.timeout_s - (time.perf_counter() - started)
            await asyncio.sleep(max(0.0, min(self.settle_s, remaining)))
        deliveries, late = slot.close()
        waited = time.perf_counter() - started
        late = [delivery for delivery in late if not delivery.retry]

        # Masking and rendering a body of megabytes is CPU work: keep it off the loop that is
        # timing the other cases' deliveries.
        outcome.transcript.extend(await asyncio.to_thread(_render_all, deliveries + late, started, secrets))
        authentic = [delivery for delivery in deliveries if delivery.authentic]
        if authentic:
            first = next((d for d in authentic if d.accepted), authentic[0])
            outcome.timings.total_s = first.received_at - started
            outcome.body = first.payload
            outcome.problems.extend(_problems(authentic, slot, spec.payload_id))
            # A failed job has no text: it is the job_failed problem, unless the case expects an error.
            extract_output(outcome, request.spec.output, text=_job_succeeded(outcome, spec, secrets))
        else:
            outcome.timings.total_s = waited
            outcome.problems.extend(_unanswered(deliveries, slot, waited))
            outcome.transcript.append(f"~ no authentic callback within {waited:.1f} s")
        if slot.refused:
            outcome.transcript.append(f"~ {_refused(slot)}")
        late = [delivery for delivery in late if delivery.authentic]
        if late:
            outcome.problems.append(
                Problem(
                    "callback_late",
                    f"{len(late)} callback(s) for job {slot.job_id or '(no id)'} arrived after the wait "
                    f"ended ({request.timeout_s:g} s budget)",
                )
            )
        return outcome


_STANDARD_HEADERS = "webhook-id / webhook-timestamp / webhook-signature headers"


def _scheme(spec: CallbackSpec, receiver_secret: str | None) -> tuple[bool, SignatureScheme | None]:
    """(verify, the job's own scheme): None means the receiver's Standard Webhooks secret, if any."""
    if not spec.signed or spec.signature == "none":
        return False, None
    if isinstance(spec.signature, HmacScheme):
        hmac_spec = spec.signature.hmac_sha256
        secret = expand_env(hmac_spec.secret)[0] if hmac_spec.secret else receiver_secret
        if not secret:
            return False, None  # nothing to verify with: accepted unverified, like Standard Webhooks without a secret
        return True, HmacBodySignature(secret, hmac_spec.header, hmac_spec.prefix, hmac_spec.encoding)
    return True, None


def _job_succeeded(outcome: Outcome, spec: CallbackSpec, secrets: tuple[str, ...]) -> bool:
    """Whether the payload's status is a success value; a value the spec does not know is a problem."""
    if spec.status is None:
        return True
    status = resolve_pointer(outcome.body, spec.status)
    if status in spec.success:
        return True
    outcome.transcript.append(f"~ job status {status!r} at {spec.status} is not a success value {spec.success}")
    if status in spec.failure:
        # The service's own words; a case that expects an error takes the failed job as its answer.
        outcome.problems.append(
            Problem(
                "job_failed",
                f"the callback says the job ended with status {status!r}: {quote_body(outcome.body, secrets)}",
            )
        )
    elif spec.failure:
        outcome.problems.append(
            Problem(
                "callback_unknown_status",
                f"the callback's status at {spec.status} is {status!r}; the spec knows success {spec.success} "
                f"and failure {spec.failure}",
            )
        )
    return False


def _with_url_in_body(request: Request, pointer: str, url: str) -> Request:
    """The request with the receiver's URL at ``pointer`` in its JSON body (GitHub-style webhooks)."""
    body = copy.deepcopy(request.json) if request.json is not None else {}
    try:
        set_pointer(body, pointer, url)
    except ValueError as exc:
        raise HarnessUsageError(f"cannot put the callback URL at {pointer} in the request body: {exc}") from None
    return dataclasses.replace(request, json=body)


def _unanswered(deliveries: list[CallbackDelivery], slot: CallbackSlot, waited: float) -> list[Problem]:
    """The problems of a job no authentic callback answered: what was rejected, else nothing came."""
    job = slot.job_id or "(no id)"
    within = f"and no verified callback for job {job} arrived within {waited:.1f} s"
    problems: list[Problem] = []
    scheme = slot.signature.description if slot.signature is not None else _STANDARD_HEADERS
    unsigned = [d for d in deliveries if d.verdict == "unsigned"]
    if unsigned:
        problems.append(
            Problem(
                "callback_unsigned",
                f"a callback secret is set but {len(unsigned)} callback(s) carried no {scheme}, {within}",
            )
        )
    bad = [d for d in deliveries if d.verdict == "bad_signature"]
    if bad:
        name = "Standard Webhooks" if slot.signature is None else f"{scheme} (HMAC-SHA256 of the body)"
        problems.append(
            Problem(
                "callback_bad_signature",
                f"{len(bad)} callback(s) failed {name} verification ({bad[0].detail}), {within}. "
                "Do the service and the harness use the same secret?",
            )
        )
    replayed = [d for d in deliveries if d.verdict == "replayed"]
    if replayed:
        problems.append(Problem("callback_replayed", f"{len(replayed)} callback(s): {replayed[0].detail}, {within}"))
    if slot.refused:
        problems.append(Problem("callback_flood", f"{_refused(slot)}, {within}"))
    too_large = [d for d in deliveries if d.verdict == "too_large"]
    if too_large:
        problems.append(Problem("callback_too_large", f"{len(too_large)} callback(s): {too_large[0].detail}, {within}"))
    if not problems:
        problems.append(
            Problem(
                "callback_never_arrived",
                f"waited {waited:.1f} s for job {job} at {slot.url}; no callback came",
            )
        )
    return problems


def _refused(slot: CallbackSlot) -> str:
    return (
        f"{slot.refused} more callback(s) answered 429 unread: a job may send {KEPT_PER_JOB} callbacks, "
        "or twice the receiver's body limit in all"
    )


def _problems(authentic: list[CallbackDelivery], slot: CallbackSlot, payload_id: str) -> list[Problem]:
    """The named problems a job's authentic deliveries show (rejected ones are not the service's word)."""
    problems: list[Problem] = []
    job = slot.job_id or "(no id)"
    not_json = [d for d in authentic if d.verdict == "not_json"]
    if not_json:
        problems.append(Problem("callback_bad_payload", f"callback for job {job}: {not_json[0].detail}"))
    # A retry of a delivery rejected as not JSON is expected; anything else after the first is a
    # duplicate. Only authentic rejections count: a forger reusing a webhook-id must not hide one.
    rejected_keys: set[str] = set()
    news: list[CallbackDelivery] = []
    for delivery in authentic:
        if delivery.key not in rejected_keys:
            news.append(delivery)
        if not delivery.accepted:
            rejected_keys.add(delivery.key)
    if len(news) > 1:
        same = len({d.key for d in news}) == 1
        how = (
            f"the same message ({_key(news[0])}) redelivered after it was accepted" if same else "as separate messages"
        )
        problems.append(
            Problem(
                "callback_duplicate",
                f"job {job} was delivered {len(news)} times within "
                f"{news[-1].received_at - news[0].received_at:.3f} s ({how}); "
                f"the harness used the first",
            )
        )
    if slot.job_id is not None:
        # Compared as text: an id acknowledged as a number and called back as a string is the same job.
        payload_ids = (resolve_pointer(d.payload, payload_id) for d in authentic if d.payload is not None)
        wrong = {str(got) for got in payload_ids if str(got) != slot.job_id}
        if wrong:
            problems.append(
                Problem(
                    "callback_wrong_id",
                    f"callback payload has job id {', '.join(sorted(wrong))} at {payload_id}, "
                    f"but the acknowledgement said {slot.job_id}",
                )
            )
    return problems


def _key(delivery: CallbackDelivery) -> str:
    """How to name a message in a problem: its webhook-id, or 'identical body'."""
    if delivery.key.startswith("sha256:"):
        return "identical body"
    return f"webhook-id {delivery.key}"


def _render_all(deliveries: list[CallbackDelivery], started: float, secrets: tuple[str, ...]) -> list[str]:
    """Transcript lines for every delivery, numbered in arrival order."""
    lines: list[str] = []
    for number, delivery in enumerate(deliveries, start=1):
        lines.extend(_render(number, delivery, started, secrets))
    return lines


def _render(number: int, delivery: CallbackDelivery, started: float, secrets: tuple[str, ...]) -> list[str]:
    """One delivery for the transcript: arrival, verdict, answer, headers and payload."""
    when = delivery.received_at - started
    flags = [
        flag
        for flag, on in (
            ("late", delivery.late),
            ("retry", delivery.retry),
            ("rejected, not used", not delivery.authentic),
        )
        if on
    ]
    lines = [
        f"~ callback #{number} at +{when:.3f} s: {delivery.method} {delivery.path} -> {delivery.answered} "
        f"({delivery.verdict}: {delivery.detail}){' [' + ', '.join(flags) + ']' if flags else ''}"
    ]
    lines.extend(f"~ {name}: {value}" for name, value in redact_headers(delivery.headers, secrets).items())
    lines.append("~")
    body = delivery.payload if delivery.payload is not None else delivery.body.decode("utf-8", "replace")
    lines.extend(show_lines("~ ", body, secrets))
    return lines
