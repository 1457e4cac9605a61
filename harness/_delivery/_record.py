"""What every adapter does the same way: send options, the request record, transcripts, output pointers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from harness._delivery._base import Request
from harness._errors import ServiceUnreachable
from harness._outcome import Outcome
from harness._outcome import is_success as is_success  # the adapters import it from here
from harness._pointer import resolve_pointer
from harness._redact import redact, redact_headers, redact_text
from harness._spec import OutputPointers

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


def unreachable(request: Request, exc: Exception) -> ServiceUnreachable:
    """The ServiceUnreachable error for a request that could not connect, naming the URL and the fix."""
    url = redact_text(request.url, request.secrets)
    reason = str(exc) or type(exc).__name__
    return ServiceUnreachable(
        f"{request.endpoint}: cannot reach {request.method} {url} ({reason}). Is the service running? Check --base-url."
    )


def record_response(outcome: Outcome, response: httpx.Response, request: Request, elapsed_s: float) -> None:
    """Status and masked headers on the Outcome, and the response head in the transcript."""
    outcome.status = response.status_code
    outcome.headers = redact_headers(dict(response.headers), request.secrets)
    outcome.transcript.append(f"< {response.status_code} {response.reason_phrase} ({elapsed_s:.3f} s)")
    outcome.transcript.extend(f"< {name}: {value}" for name, value in outcome.headers.items())


def record_body(outcome: Outcome, response: httpx.Response, request: Request) -> None:
    """The response body (JSON when it parses, text otherwise) on the Outcome and in the transcript."""
    outcome.body = decode_body(response.content)
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
    """Fill ``text`` (unless the adapter has its own), ``sources`` and ``metadata`` from ``outcome.body``."""
    body = outcome.body
    if text and pointers.text is not None:
        value = resolve_pointer(body, pointers.text)
        outcome.text = value if isinstance(value, str) else None
    if pointers.sources is not None:
        value = resolve_pointer(body, pointers.sources)
        if isinstance(value, list):
            outcome.sources = [item if isinstance(item, str) else json.dumps(item) for item in value]
    for name, pointer in pointers.metadata.items():
        outcome.metadata[name] = resolve_pointer(body, pointer)


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
