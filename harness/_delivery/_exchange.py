"""What every adapter does the same way: send and read within bounds, turn transport failures into one
error or a named problem, record the request and the response, fill the output from pointers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from harness._delivery._base import Request
from harness._delivery._outcome import Outcome, Problem
from harness._delivery._outcome import is_success as is_success  # the adapters import it from here
from harness._errors import ServiceUnreachable
from harness._model._pointer import explain_miss, resolve_pointer
from harness._model._spec import OutputPointers
from harness._report.excerpts import clip, short_repr
from harness._report.masking import redact, redact_headers, redact_text

# Connecting never needs the whole budget; capping it lets an unreachable host surface as
# ServiceUnreachable instead of being mistaken for a slow service by the wall-clock deadline.
_CONNECT_TIMEOUT_S = 10.0

# Transcripts go into reports; a runaway body should not make them unreadable.
_TRANSCRIPT_BODY_LIMIT = 64 * 1024

# Transport errors that mean nothing answered at all: refused, DNS failure, connect timeout, bad scheme.
UNREACHABLE_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.UnsupportedProtocol,
)


T = TypeVar("T")


class ResponseTooLarge(Exception):
    """A response (or stream) outgrew ``Request.max_bytes``; reading stopped there."""


@dataclass
class Exchange:
    """What :func:`delivery_errors` made of the block it guarded: ``ok`` unless a problem ended it."""

    ok: bool = True


@contextlib.asynccontextmanager
async def delivery_errors(
    request: Request,
    outcome: Outcome,
    timeout_message: Callable[[], str],
    *,
    broken: str = "transport_error",
) -> AsyncIterator[Exchange]:
    """The one place where a delivery's transport failures become an error or a named problem.

    The block runs under the request's wall-clock deadline. Nothing answered (refused, DNS, a connection
    that broke before any response, e.g. a service stopped mid-run): ``ServiceUnreachable``, one error per
    item that says what to check. The deadline: a ``timeout`` problem. A connection that broke after a
    response began: a ``broken`` problem. A response past ``request.max_bytes``: ``response_too_large``.
    Problems end the block with ``Exchange.ok`` False; the adapter returns what it has.
    """
    exchange = Exchange()
    try:
        async with asyncio.timeout(request.timeout_s):
            yield exchange
    except UNREACHABLE_ERRORS as exc:
        raise unreachable(request, exc) from None
    except (TimeoutError, httpx.TimeoutException):
        exchange.ok = False
        message = timeout_message()
        outcome.problems.append(Problem("timeout", message))
        outcome.transcript.append(f"! {message}")
    except ResponseTooLarge as exc:
        exchange.ok = False
        outcome.problems.append(Problem("response_too_large", str(exc)))
        outcome.transcript.append(f"! {exc}")
    except httpx.TransportError as exc:
        if outcome.status is None:
            raise unreachable(request, exc, before_response=True) from None
        exchange.ok = False
        message = f"{request.method} {outcome.request['url']}: connection broke: {exc!r}"
        outcome.problems.append(Problem(broken, message))
        outcome.transcript.append(f"! {exc!r}")


async def send(
    client: httpx.AsyncClient, request: Request, method: str, url: str, **options: Any
) -> tuple[httpx.Response, bytes]:
    """Send one request and read its body, at most ``request.max_bytes`` (past it: ``ResponseTooLarge``)."""
    async with client.stream(method, url, **options) as response:
        return response, await read_body(response, request)


async def read_body(response: httpx.Response, request: Request) -> bytes:
    """The response body, read in chunks and never more than ``request.max_bytes`` of it."""
    body = bytearray()
    async with closing(response.aiter_bytes()) as chunks:
        async for chunk in chunks:
            body += chunk
            if len(body) > request.max_bytes:
                raise too_large(request, len(body))
    return bytes(body)


@contextlib.asynccontextmanager
async def closing(iterator: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """``iterator``, closed on leaving the block: a stream left early is finalised here, on this loop,
    not by a garbage collection later (where it would surface against an unrelated test)."""
    try:
        yield iterator
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


def too_large(request: Request, size: int) -> ResponseTooLarge:
    """The error for a delivery past ``request.max_bytes``, naming the limit and how to raise it."""
    return ResponseTooLarge(
        f"the response passed {request.max_bytes:,} bytes ({size:,} read); reading stopped there. "
        "Raise --harness-max-response-size if the service really sends that much"
    )


def merged_headers(request: Request, extra_headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """The adapter's headers under the request's own, less the ones the request omits."""
    own = {name.lower() for name in request.headers}
    omitted = {name.lower() for name in request.omit_headers}
    headers = {k: v for k, v in (extra_headers or {}).items() if k.lower() not in own}
    headers.update(request.headers)
    return {k: v for k, v in headers.items() if k.lower() not in omitted}


def new_outcome(request: Request, delivery: str, extra_headers: Mapping[str, str] | None = None) -> Outcome:
    """An empty Outcome carrying the masked request record and the request lines of the transcript."""
    headers = merged_headers(request, extra_headers)
    if request.content is None and request.json is not None and not _has(headers, "content-type"):
        # httpx adds this itself; the record needs it too, or the curl reproduction sends form data.
        headers["Content-Type"] = "application/json"
    masked_headers = redact_headers(headers, request.secrets)
    body = _request_body(request)
    outcome = Outcome(endpoint=request.endpoint, delivery=delivery)
    outcome.timings.started_at = time.time()
    outcome.request = {
        "method": request.method,
        "url": redact_text(request.url, request.secrets),
        "headers": masked_headers,
        "body": redact(body, request.secrets),
    }
    outcome.transcript.append(f"> {request.method} {outcome.request['url']}")
    outcome.transcript.extend(f"> {name}: {value}" for name, value in masked_headers.items())
    if body is not None:
        outcome.transcript.append(">")
        outcome.transcript.extend(f"> {line}" for line in _show(outcome.request["body"]).splitlines() or [""])
    return outcome


def send_options(request: Request, extra_headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments for ``client.request`` / ``client.stream``: headers, body and transport timeouts."""
    options: dict[str, Any] = {
        "headers": merged_headers(request, extra_headers),
        # The adapter's wall-clock deadline is the real bound; these only keep the transport from
        # outliving it and separate "cannot connect" from "slow to answer".
        "timeout": httpx.Timeout(request.timeout_s, connect=min(_CONNECT_TIMEOUT_S, request.timeout_s / 2)),
    }
    if request.content is not None:
        options["content"] = request.content
    elif request.json is not None:
        options["json"] = request.json
    return options


def unreachable(request: Request, exc: Exception, *, before_response: bool = False) -> ServiceUnreachable:
    """The ServiceUnreachable error for a request nothing answered, naming the URL and the fix."""
    url = redact_text(request.url, request.secrets)
    reason = str(exc) or type(exc).__name__
    if before_response:
        return ServiceUnreachable(
            f"{request.endpoint}: {request.method} {url}: the connection broke before any response ({reason}). "
            "Did the service stop or restart? Check it, and --base-url."
        )
    return ServiceUnreachable(
        f"{request.endpoint}: cannot reach {request.method} {url} ({reason}). Is the service running? Check --base-url."
    )


def record_response(outcome: Outcome, response: httpx.Response, request: Request, elapsed_s: float) -> None:
    """Status and masked headers on the Outcome, and the response head in the transcript."""
    outcome.status = response.status_code
    outcome.headers = redact_headers(dict(response.headers), request.secrets)
    outcome.transcript.append(f"< {response.status_code} {response.reason_phrase} ({elapsed_s:.3f} s)")
    outcome.transcript.extend(f"< {name}: {value}" for name, value in outcome.headers.items())


def record_body(outcome: Outcome, content: bytes, request: Request) -> None:
    """The response body (JSON when it parses, text otherwise) on the Outcome and in the transcript."""
    outcome.body = decode_body(content)
    outcome.transcript.append("<")
    shown = _show(redact(outcome.body, request.secrets))
    outcome.transcript.extend(f"< {line}" for line in shown.splitlines() or [""])


def decode_body(content: bytes) -> Any:
    """JSON when the bytes parse as JSON, else text (UTF-8, undecodable bytes replaced), None if empty."""
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")


def extract_output(outcome: Outcome, pointers: OutputPointers, *, text: bool = True) -> None:
    """Fill ``text`` (unless the adapter has its own), ``sources`` and ``metadata`` from ``outcome.body``.

    A text pointer that finds no string is ``output_missing``, naming what the body holds there: a wrong
    pointer in the spec otherwise reads as every check's "got none".
    """
    body = outcome.body
    if text and pointers.text is not None:
        value = resolve_pointer(body, pointers.text)
        outcome.text = value if isinstance(value, str) else None
        if outcome.text is None:
            found = explain_miss(body, pointers.text) if value is None else f"it holds {short_repr(value, 80)}"
            outcome.problems.append(
                Problem(
                    "output_missing",
                    f"output.text {pointers.text} finds no text in the {outcome.endpoint} answer: {found}; "
                    "fix output.text in the service spec (harness try shows what each pointer finds)",
                )
            )
    if pointers.sources is not None:
        value = resolve_pointer(body, pointers.sources)
        if isinstance(value, list):
            outcome.sources = [item if isinstance(item, str) else json.dumps(item) for item in value]
    for name, pointer in pointers.metadata.items():
        outcome.metadata[name] = resolve_pointer(body, pointer)


def quote_body(body: Any, secrets: Iterable[str], limit: int = 300) -> str:
    """A service's own words for a failure message: the body, masked and clipped."""
    return clip(_show(redact(body, tuple(secrets))), limit)


def show_lines(prefix: str, value: Any, secrets: Iterable[str]) -> list[str]:
    """A masked value rendered for the transcript, one prefixed line per line."""
    return [f"{prefix}{line}" for line in _show(redact(value, tuple(secrets))).splitlines() or [""]]


def _request_body(request: Request) -> Any:
    """The body as recorded: the JSON value, or raw content as text."""
    if request.content is not None:
        return request.content.decode("utf-8", errors="replace")
    return request.json


def _show(value: Any) -> str:
    """Bodies as readable text: JSON compact but unescaped, long ones cut with a note."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > _TRANSCRIPT_BODY_LIMIT:
        return f"{text[:_TRANSCRIPT_BODY_LIMIT]}... [{len(text) - _TRANSCRIPT_BODY_LIMIT} more characters]"
    return text


def _has(headers: Mapping[str, str], name: str) -> bool:
    """Case-insensitive header presence."""
    return any(key.lower() == name for key in headers)
