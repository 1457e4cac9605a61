"""The callback receiver: a small real HTTP server that async jobs call back.

It runs uvicorn with a tiny ASGI app in a background thread with its own event loop, so it works the
same whether the harness drives its adapters from pytest's main thread, from ``asyncio.run`` or from
a loop in another thread: ``start()`` and ``stop()`` are synchronous and bounded, and a waiting
adapter is woken with ``loop.call_soon_threadsafe`` on *its* loop.

Each expected job gets its own path, ``/callbacks/<token>``, so a delivery is tied to the request that
asked for it even when the payload carries the wrong job id. Answers:

- ``200`` to every well-formed delivery, including duplicates and late ones, so a service never
  retries forever because of the harness;
- ``401`` when a secret is set and the signature is missing or wrong: that is what a real consumer
  does, and it lets the service's retry path run (retries carry the same ``webhook-id`` and are not
  counted as duplicates), and when a validly signed message was already delivered to another job's
  path (a replay). Such a delivery is recorded but never wakes the waiting adapter: anyone
  who can reach the receiver can post to it, so only an authentic delivery may become the result;
- ``400`` when the body is not JSON, ``405`` for a non-POST;
- ``413`` for a body over ``max_body_bytes``: reading stops at the limit, nothing is kept;
- ``429`` once a job has had its share (``KEPT_PER_JOB`` deliveries, or twice ``max_body_bytes`` of bodies),
  without reading the body: a job's URL posted to a thousand times costs a counter, not a thousand bodies;
- ``404`` for a path no job expects, without reading the body: such requests are counted, and the
  first few are kept without their bodies, so a flood of them cannot grow memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import secrets as _secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks import Webhook

from harness._delivery._signatures import SignatureScheme
from harness._errors import HarnessError
from harness.serving import ServerThread, bind, quiet_config

__all__ = ["DEFAULT_MAX_BODY_BYTES", "CallbackDelivery", "CallbackReceiver", "CallbackSlot"]

_PATH = re.compile(r"/callbacks/(?P<token>[A-Za-z0-9_-]+)/?$")
_SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024

# Requests to unknown paths kept for the report (without bodies); later ones are only counted.
_UNEXPECTED_KEPT = 100

# Deliveries one job may make that are read and kept; later ones are answered 429 unread and only counted,
# as are any once the job's kept bodies reach twice the per-delivery limit. A known job's URL can then
# cost at most that much memory, however often a service (or whoever learnt the URL) posts to it.
KEPT_PER_JOB = 20

# Verdicts of deliveries that passed verification, or for which none was asked. Only these end a
# wait and become a result; the others may come from anyone who can reach the receiver.
_AUTHENTIC_VERDICTS = frozenset({"ok", "unverified", "not_json"})

_Scope = dict[str, Any]
_Receive = Callable[[], Awaitable[dict[str, Any]]]
_Send = Callable[[dict[str, Any]], Awaitable[None]]


class _ClientGone(Exception):
    """The sender disconnected before its body was complete."""


@dataclass(frozen=True)
class CallbackDelivery:
    """One HTTP request that reached a job's callback path."""

    token: str
    """The path token: which expected job (which request) this delivery belongs to."""
    job_id: str | None
    """The job id the service acknowledged for that request, if known when the delivery arrived."""
    received_at: float
    """``time.perf_counter()`` at arrival, comparable with the adapter's own timestamps."""
    method: str
    path: str
    headers: dict[str, str]
    """As received, names lower-cased."""
    body: bytes
    """Empty when the body was not kept (``too_large``, unknown path)."""
    payload: Any
    """The body parsed as JSON, or None if it is not JSON."""
    verdict: str
    """``ok`` (signature valid), ``unverified`` (no secret or unsigned endpoint), ``not_json`` (after
    either of those), or a rejection: ``unsigned``, ``bad_signature``, ``replayed`` (validly signed,
    but already delivered to another job's URL), ``too_large``."""
    detail: str
    """Why the verdict, e.g. the verification error."""
    answered: int
    """The HTTP status the receiver answered."""
    key: str
    """Identity of the message: its ``webhook-id`` (or the spec's delivery-id header), else a hash of the body.
    Retries share it."""
    repeat: bool
    """True when an earlier delivery to the same path had the same key (a redelivery of one message)."""
    retry: bool
    """True when that earlier delivery was rejected (401/400): the service retrying, as it should."""
    late: bool
    """True when it arrived after the adapter had stopped waiting for this job."""

    @property
    def accepted(self) -> bool:
        """The receiver answered 2xx."""
        return 200 <= self.answered < 300

    @property
    def authentic(self) -> bool:
        """It passed signature verification, or none was asked for: it may be a job's result."""
        return self.verdict in _AUTHENTIC_VERDICTS


class CallbackSlot:
    """One expected job: its callback URL and the deliveries to it. Made by ``CallbackReceiver.expect``.

    Create it from the coroutine that will wait on it: arrivals wake that coroutine's event loop.
    """

    def __init__(
        self,
        receiver: CallbackReceiver,
        token: str,
        url: str,
        verify: bool,
        signature: SignatureScheme | None = None,
        id_header: str | None = None,
    ) -> None:
        self.token = token
        self.url = url
        """The URL to give the service."""
        self.verify = verify
        self.signature = signature
        """This job's own scheme (e.g. an HMAC of the body); None: the receiver's Standard Webhooks secret."""
        self.id_header = id_header
        """Header that names a message (e.g. X-GitHub-Delivery); None: webhook-id."""
        self.job_id: str | None = None
        """Set by the adapter once the service acknowledges; recorded on late deliveries."""
        self.closed = False
        self.refused = 0
        """Deliveries answered 429 unread: past the job's share (``KEPT_PER_JOB``, or its bytes)."""
        self._kept = 0
        self._kept_bytes = 0
        self._receiver = receiver
        self._deliveries: list[CallbackDelivery] = []
        self._late: list[CallbackDelivery] = []
        self._loop = asyncio.get_running_loop()
        self._arrived = asyncio.Event()

    def deliveries(self) -> list[CallbackDelivery]:
        """Deliveries so far, in arrival order (late ones excluded)."""
        with self._receiver._lock:
            return list(self._deliveries)

    async def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the first authentic delivery; True if one has arrived.

        Rejected deliveries (unsigned, badly signed, too large) are recorded but do not end the wait.
        """
        if timeout_s > 0:
            try:
                async with asyncio.timeout(timeout_s):
                    await self._arrived.wait()
            except TimeoutError:
                pass
        return any(delivery.authentic for delivery in self.deliveries())

    def close(self) -> tuple[list[CallbackDelivery], list[CallbackDelivery]]:
        """Stop waiting: later arrivals are late. Returns (deliveries, late ones so far)."""
        with self._receiver._lock:
            self.closed = True
            deliveries, self._deliveries = self._deliveries, []
            return deliveries, list(self._late)

    def _add(self, delivery: CallbackDelivery) -> None:
        """Record an arrival (receiver thread, lock held) and wake the waiting loop."""
        self._kept += 1
        self._kept_bytes += len(delivery.body)
        if delivery.late:
            self._late.append(delivery)
            return
        self._deliveries.append(delivery)
        if not delivery.authentic:
            return
        # A closed waiting loop means nobody is waiting; the delivery is still recorded.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._arrived.set)


@dataclass
class _Seen:
    """Per-token memory that outlives a closed slot: keys seen and keys the receiver rejected."""

    keys: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)


class CallbackReceiver:
    """A real HTTP server on a loopback (or given) address that records job callbacks.

    Construct, ``start()`` once per process, ``expect()`` a slot per request, ``stop()`` at the end
    (or use it as a context manager)::

        receiver = CallbackReceiver(secret="whsec_...")
        receiver.start()
        ...
        receiver.stop()

    ``host``/``port`` are where it listens (port 0: an ephemeral port). ``public_url`` is the base
    URL given to services instead of ``http://host:port``, for a service that reaches the harness
    through another address (``--harness-callback-url``). ``secret`` (``whsec_<base64>``) turns on
    Standard Webhooks verification; without it deliveries are accepted unverified.
    ``max_body_bytes`` bounds what one delivery may send (413 past it).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
        secret: str | None = None,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        start_timeout_s: float = 5.0,
    ) -> None:
        if max_body_bytes < 1:
            raise HarnessError(f"max_body_bytes must be at least 1, got {max_body_bytes}")
        self.host = host
        self.port = port
        self.public_url = public_url.rstrip("/") if public_url else None
        self.secret = secret
        self.max_body_bytes = max_body_bytes
        self.start_timeout_s = start_timeout_s
        # Fails fast on a malformed secret instead of at the first delivery.
        self._webhook = Webhook(secret) if secret else None
        self._lock = threading.Lock()
        self._slots: dict[str, CallbackSlot] = {}
        self._seen: dict[str, _Seen] = {}
        self._late: list[CallbackDelivery] = []
        self._unexpected: list[CallbackDelivery] = []
        self._unexpected_count = 0
        self._signed_ids: dict[str, str] = {}  # webhook-id of each validly signed message -> its path token
        self._serving: ServerThread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind, start serving in a background thread, and return once it accepts connections.

        Raises ``HarnessError`` if the address cannot be bound or the server does not come up within
        ``start_timeout_s``.
        """
        if self._serving is not None:
            raise HarnessError("the callback receiver is already running; start it once per process")
        try:
            sock = bind(self.host, self.port)
        except OSError as exc:
            raise HarnessError(
                f"cannot start the callback receiver on {self.host}:{self.port}: {exc}. "
                "Choose another --harness-callback-host, or port 0 for an ephemeral port."
            ) from exc
        self.port = sock.getsockname()[1]
        config = quiet_config(
            self._app,
            interface="asgi3",  # a bound method defeats uvicorn's ASGI2/3 guess
            lifespan="off",
            proxy_headers=False,
            timeout_graceful_shutdown=1,
        )
        self._serving = ServerThread([(config, sock)], name="harness-callback-receiver")
        try:
            self._serving.start(self.start_timeout_s)
        except RuntimeError as exc:
            self._serving = None
            raise HarnessError(f"the callback receiver on {self.host}:{self.port} did not start: {exc}") from None

    def stop(self) -> None:
        """Stop serving (bounded); safe to call twice."""
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.stop()

    def __enter__(self) -> CallbackReceiver:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between a successful ``start()`` and ``stop()``."""
        return self._serving is not None and self._serving.running

    @property
    def url(self) -> str:
        """The base URL services are given: ``public_url``, else ``http://host:port``."""
        if self.public_url:
            return self.public_url
        host = self.host
        if host in _WILDCARD_HOSTS:
            # Listening on every interface: this machine's name is the best guess at an address a
            # remote service can use; pass public_url when it is not.
            host = socket.gethostname()
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    # -- jobs --------------------------------------------------------------------------------------

    def expect(
        self, *, verify: bool = True, signature: SignatureScheme | None = None, id_header: str | None = None
    ) -> CallbackSlot:
        """A new slot with a unique callback URL. Call from the coroutine that will wait on it.

        ``verify=False`` skips signature verification for this job (an endpoint declared unsigned);
        ``signature`` verifies it with another scheme than the receiver's Standard Webhooks secret;
        ``id_header`` names the header that identifies a message (default ``webhook-id``).
        """
        if not self.running:
            raise HarnessError("the callback receiver is not running; call CallbackReceiver.start() first")
        token = _secrets.token_urlsafe(16)
        slot = CallbackSlot(self, token, f"{self.url}/callbacks/{token}", verify, signature, id_header)
        with self._lock:
            self._slots[token] = slot
            self._seen[token] = _Seen()
        return slot

    def late_deliveries(self) -> list[CallbackDelivery]:
        """Authentic deliveries that arrived after their job's wait had ended (not retries of rejected ones)."""
        with self._lock:
            return list(self._late)

    def unexpected_deliveries(self) -> list[CallbackDelivery]:
        """The first requests to paths no job expects (a stale or invented URL), without their bodies."""
        with self._lock:
            return list(self._unexpected)

    @property
    def unexpected_count(self) -> int:
        """How many requests reached paths no job expects, including those not kept."""
        with self._lock:
            return self._unexpected_count

    # -- the HTTP side (receiver thread) -------------------------------------------------------------

    async def _app(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """The ASGI app: read the request up to the size limit, record it, answer with a small JSON body."""
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        received_at = time.perf_counter()
        match = _PATH.search(path)
        token = match["token"] if match else ""
        with self._lock:
            expected = token in self._slots
        if not expected:
            # Not read at all: whoever posts to an invented URL costs a counter, not memory.
            self._count_unexpected(received_at, method, path, headers)
            status, answer = 404, {"error": f"no job expects a callback at {path}"}
        elif method != "POST":
            status, answer = 405, {"error": "callbacks are POSTed"}
        elif self._refuse(token):
            status = 429
            answer = {
                "error": f"this job has had its share of callbacks ({KEPT_PER_JOB} deliveries, or "
                f"{2 * self.max_body_bytes} bytes of bodies); this one was not read"
            }
        else:
            try:
                body = await self._read_body(headers, receive)
            except _ClientGone:
                return  # half a body is no delivery, and there is nobody to answer
            if body is None:
                limit = f"{self.max_body_bytes} bytes"
                status, answer = self._record(received_at, method, path, headers, b"", too_large=limit)
            else:
                status, answer = self._record(received_at, method, path, headers, bytes(body))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(answer).encode()})

    def _refuse(self, token: str) -> bool:
        """Whether the job at ``token`` has had its share of deliveries; if so, count one more refused."""
        with self._lock:
            slot = self._slots[token]
            if slot._kept < KEPT_PER_JOB and slot._kept_bytes < 2 * self.max_body_bytes:
                return False
            slot.refused += 1
            return True

    async def _read_body(self, headers: dict[str, str], receive: _Receive) -> bytearray | None:
        """The body, or None once it passes ``max_body_bytes`` (what was read so far is dropped)."""
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        body = bytearray()  # bytes += bytes would copy the whole body at every chunk
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                return None
            if not message.get("more_body", False):
                return body

    def _count_unexpected(self, received_at: float, method: str, path: str, headers: dict[str, str]) -> None:
        """Count a request to a path no job expects; keep the first few, without bodies."""
        with self._lock:
            self._unexpected_count += 1
            if len(self._unexpected) < _UNEXPECTED_KEPT:
                self._unexpected.append(
                    CallbackDelivery(
                        token="",
                        job_id=None,
                        received_at=received_at,
                        method=method,
                        path=path,
                        headers=headers,
                        body=b"",
                        payload=None,
                        verdict="unexpected",
                        detail="no job expects a callback at this path; body not read",
                        answered=404,
                        key="",
                        repeat=False,
                        retry=False,
                        late=False,
                    )
                )

    def _record(
        self,
        received_at: float,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        *,
        too_large: str = "",
    ) -> tuple[int, Any]:
        """Classify one delivery to an expected path, record it on its slot, and choose the answer."""
        match = _PATH.search(path)
        token = match["token"] if match else ""
        with self._lock:
            slot = self._slots[token]
            seen = self._seen[token]
            job_id, verify, signature, id_header = slot.job_id, slot.verify, slot.signature, slot.id_header
        if too_large:
            payload, verdict, detail = None, "too_large", f"body over the receiver's limit of {too_large}; not read"
            status = 413
        else:
            payload, verdict, detail = self._verify(headers, body, verify, signature)
            message_id = headers.get((id_header or "webhook-id").lower())
            if verdict == "ok" and message_id:
                verdict, detail = self._check_replay(message_id, token, verdict, detail)
            if verdict in ("unsigned", "bad_signature", "replayed"):
                status = 401
            elif verdict == "not_json":
                status = 400
            else:
                status = 200
        key = headers.get((id_header or "webhook-id").lower()) or "sha256:" + hashlib.sha256(body).hexdigest()
        with self._lock:
            delivery = CallbackDelivery(
                token=token,
                job_id=job_id,
                received_at=received_at,
                method=method,
                path=path,
                headers=headers,
                body=body,
                payload=payload,
                verdict=verdict,
                detail=detail,
                answered=status,
                key=key,
                repeat=key in seen.keys,
                retry=key in seen.rejected,
                late=slot.closed,
            )
            seen.keys.add(key)
            if not delivery.accepted:
                seen.rejected.add(key)
            slot._add(delivery)
            # A retry of a delivery this receiver rejected is the service doing its job, not news;
            # a late forgery says nothing about the service's speed.
            if delivery.late and delivery.authentic and not delivery.retry:
                self._late.append(delivery)
        if status == 200:
            return status, {"received": True}
        return status, {"error": detail}

    def _check_replay(self, message_id: str, token: str, verdict: str, detail: str) -> tuple[str, str]:
        """A validly signed message already delivered to another job's URL is a replay, not this job's result.

        The signature covers the id, timestamp and body but not the URL, so within its five minutes
        a captured delivery would verify at any callback path.
        """
        with self._lock:
            first = self._signed_ids.setdefault(message_id, token)
        if first != token:
            return "replayed", f"message {message_id} was already delivered to another job's callback URL"
        return verdict, detail

    def _verify(
        self, headers: dict[str, str], body: bytes, verify: bool, signature: SignatureScheme | None = None
    ) -> tuple[Any, str, str]:
        """(payload, verdict, detail) for one delivery."""
        verdict, detail = "unverified", "no secret set" if self._webhook is None else "endpoint declared unsigned"
        if signature is not None and verify:
            verdict, detail = signature.verify(headers, body)
        elif self._webhook is not None and verify:
            if not any(name in headers for name in _SIGNATURE_HEADERS):
                verdict, detail = "unsigned", "no webhook-id / webhook-timestamp / webhook-signature headers"
            else:
                try:
                    self._webhook.verify(body, headers, json_parse=False)
                    verdict, detail = "ok", "signature valid"
                except Exception as exc:
                    # standardwebhooks raises its own error for a wrong signature or a timestamp off
                    # by more than 5 minutes, but ValueError / binascii.Error for a malformed header.
                    verdict, detail = "bad_signature", str(exc) or type(exc).__name__
        try:
            payload = json.loads(body)
        except ValueError:
            if verdict in ("ok", "unverified"):
                verdict, detail = "not_json", f"body is not JSON: {body[:200]!r}"
            return None, verdict, detail
        return payload, verdict, detail
