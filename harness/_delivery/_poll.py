"""Poll delivery: submit a job, poll its status until it ends, fetch the result.

The shape of BentoML tasks (``/submit`` → ``/status?task_id=`` → ``/get?task_id=``) and of most job APIs.
Every request and answer goes into the transcript, and one wall-clock deadline bounds the whole job.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from harness._delivery._base import Request
from harness._delivery._exchange import (
    delivery_errors,
    extract_output,
    merged_headers,
    new_outcome,
    quote_body,
    record_body,
    record_response,
    send,
    send_options,
)
from harness._delivery._outcome import Outcome, Problem, is_success
from harness._model._pointer import resolve_pointer
from harness._model._spec import PollRequest, PollSpec
from harness._report.masking import redact_text


@dataclass
class _Job:
    """What is known about the job so far, kept outside the coroutine so a timeout does not lose it."""

    id: str | None = None
    status: Any = None
    polls: int = 0
    said: str = ""
    """The status body that reported a failure, masked and clipped."""


class PollAdapter:
    """Submits a job, polls its status with bounded backoff, and fetches its result.

    The Outcome's ``status`` and ``body`` are the final answer's: the result request's (or the last
    status body's when the spec has no result request). A job that ends with a failure status is the
    ``job_failed`` problem, quoting the status body; a case that expects an error takes it as its answer,
    for the checks and error parity (BentoML: the get request then answers 400 or 500 with the error body).
    A rejected submit (non-2xx) is recorded without a problem, like sync.

    Problems: ``job_failed`` (a failure status; the status body quoted), ``poll_no_job_id`` (2xx submit
    without a job id), ``poll_status_failed`` (a status
    request answered non-2xx), ``poll_unknown_status`` (a status value the spec does not list),
    ``timeout`` (the job did not end within ``request.timeout_s``), ``transport_error``.
    """

    delivery = "poll"

    async def deliver(self, client: httpx.AsyncClient, request: Request) -> Outcome:
        """Submit ``request``, wait for the job to end, and return the Outcome."""
        outcome = new_outcome(request, self.delivery)
        job = _Job()
        started = time.perf_counter()

        def late() -> str:
            if job.id is None:
                return (
                    f"no answer to the submit {request.method} {outcome.request['url']} within {request.timeout_s:g} s"
                )
            return (
                f"job {job.id} did not end within {request.timeout_s:g} s: last status {job.status!r} "
                f"after {job.polls} polls"
            )

        async with delivery_errors(request, outcome, late):
            await self._run(client, request, outcome, job, started)
        outcome.timings.total_s = time.perf_counter() - started
        return outcome

    async def _run(
        self, client: httpx.AsyncClient, request: Request, outcome: Outcome, job: _Job, started: float
    ) -> None:
        spec = request.spec.poll
        assert spec is not None  # the spec model requires it for delivery: poll
        response, content = await send(client, request, request.method, request.url, **send_options(request))
        outcome.timings.ack_s = time.perf_counter() - started
        record_response(outcome, response, request, outcome.timings.ack_s)
        record_body(outcome, content, request)
        if not is_success(response.status_code):
            return  # rejected at once: the body is the error, for the checks
        job_id = resolve_pointer(outcome.body, spec.job_id)
        if job_id is None:
            outcome.problems.append(
                Problem("poll_no_job_id", f"the submit answer has no job id at {spec.job_id}: nothing to poll")
            )
            return
        job.id = str(job_id)
        failed = await self._wait(client, request, outcome, job, spec, started)
        if failed is None:
            return
        if spec.result is not None:
            await self._fetch(client, request, outcome, job, spec, failed, started)
        if failed:
            # Named whatever the result route answers (a 200 with null must not pass), in the job's own words; a
            # case that expects an error takes the failed job as its answer (the runner decides that).
            result = f"; its result answered {outcome.status}: {quote_body(outcome.body, request.secrets)}"
            outcome.problems.append(
                Problem(
                    "job_failed",
                    f"job {job.id} ended with status {job.status!r} at {spec.status.pointer}: {job.said}"
                    + (result if spec.result is not None else ""),
                )
            )
        if is_success(outcome.status) and not failed:
            extract_output(outcome, request.spec.output)

    async def _wait(
        self, client: httpx.AsyncClient, request: Request, outcome: Outcome, job: _Job, spec: PollSpec, started: float
    ) -> bool | None:
        """Poll until the status is success (False) or failure (True); None after a problem."""
        status = spec.status
        waits = _backoff(spec)
        while True:
            response = await self._ask(client, request, outcome, status, job, started)
            job.polls += 1
            if not is_success(response.status_code):
                outcome.problems.append(
                    Problem(
                        "poll_status_failed",
                        f"the status request for job {job.id} answered {response.status_code}: {outcome.body!r:.200}",
                    )
                )
                return None
            job.status = resolve_pointer(outcome.body, status.pointer)
            if job.status in status.success:
                return False
            if job.status in status.failure:
                job.said = quote_body(outcome.body, request.secrets)
                return True
            if status.pending and job.status not in status.pending:
                expected = [*status.pending, *status.success, *status.failure]
                outcome.problems.append(
                    Problem(
                        "poll_unknown_status",
                        f"job {job.id} has status {job.status!r} at {status.pointer}; the spec knows {expected}",
                    )
                )
                return None
            await asyncio.sleep(next(waits))

    async def _fetch(
        self,
        client: httpx.AsyncClient,
        request: Request,
        outcome: Outcome,
        job: _Job,
        spec: PollSpec,
        failed: bool,
        started: float,
    ) -> None:
        """The result request; 'not ready yet' after a success status means ask again (bounded by the deadline)."""
        assert spec.result is not None
        waits = _backoff(spec)
        while True:
            response = await self._ask(client, request, outcome, spec.result, job, started)
            if failed or response.status_code not in spec.result.not_ready:
                return
            await asyncio.sleep(next(waits))

    async def _ask(
        self,
        client: httpx.AsyncClient,
        request: Request,
        outcome: Outcome,
        about: PollRequest,
        job: _Job,
        started: float,
    ) -> httpx.Response:
        """One status or result request for the job, recorded in the transcript; the Outcome takes its answer."""
        assert job.id is not None
        path = about.path.replace("{id}", urllib.parse.quote(job.id, safe=""))
        url = (request.base_url or request.url.removesuffix(request.spec.path)) + path
        params = {about.query: job.id} if about.query else None
        # The submit's headers (auth), without its body's Content-Type.
        headers = {k: v for k, v in merged_headers(request).items() if k.lower() != "content-type"}
        sent = time.perf_counter()
        response, content = await send(
            client, request, about.method, url, params=params, headers=headers, timeout=request.timeout_s
        )
        outcome.transcript.append(f"> {about.method} {redact_text(str(response.request.url), request.secrets)}")
        record_response(outcome, response, request, time.perf_counter() - sent)
        record_body(outcome, content, request)
        return response


def _backoff(spec: PollSpec) -> Iterator[float]:
    """Waits between polls: ``interval_s``, doubling up to ``max_interval_s`` (the deadline bounds the total)."""
    wait = spec.interval_s
    while True:
        yield wait
        wait = min(wait * 2, spec.max_interval_s)
