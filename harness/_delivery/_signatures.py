"""How a callback proves it came from the service: Standard Webhooks, an HMAC of the raw body, or nothing.

A scheme looks at a delivery's headers (names lower-cased) and raw body and returns a verdict:
``ok``, ``unsigned`` (the signature header is missing) or ``bad_signature`` (with why), and names the
message (its id) so retries of one message are told apart from duplicates.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Protocol

from standardwebhooks import Webhook

__all__ = ["HmacBodySignature", "SignatureScheme", "StandardWebhooksSignature"]

_STANDARD_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class SignatureScheme(Protocol):
    """Verifies one delivery."""

    @property
    def description(self) -> str:
        """What a missing signature lacks, for the ``callback_unsigned`` message."""
        ...

    def verify(self, headers: dict[str, str], body: bytes) -> tuple[str, str]:
        """(verdict, detail): ``ok``, ``unsigned`` or ``bad_signature``."""
        ...


class StandardWebhooksSignature:
    """``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` with a ``whsec_`` secret."""

    description = "webhook-id / webhook-timestamp / webhook-signature headers"

    def __init__(self, secret: str) -> None:
        self._webhook = Webhook(secret)

    def verify(self, headers: dict[str, str], body: bytes) -> tuple[str, str]:
        """Checks the signature and the timestamp's tolerance, as the standardwebhooks library does."""
        if not all(name in headers for name in _STANDARD_HEADERS):
            return "unsigned", f"no {self.description}"
        try:
            self._webhook.verify(body, headers, json_parse=False)
        except Exception as exc:  # standardwebhooks raises its own error for a bad signature or timestamp
            return "bad_signature", str(exc) or type(exc).__name__
        return "ok", "signature valid"


@dataclass(frozen=True)
class HmacBodySignature:
    """HMAC-SHA256 of the raw body in one header, e.g. GitHub's ``X-Hub-Signature-256: sha256=<hex>``."""

    secret: str
    header: str
    prefix: str = ""
    encoding: str = "hex"

    @property
    def description(self) -> str:
        return f"{self.header} header"

    def expected(self, body: bytes) -> str:
        """The header value a correctly signed ``body`` carries."""
        digest = hmac.new(self.secret.encode("utf-8"), body, hashlib.sha256).digest()
        encoded = digest.hex() if self.encoding == "hex" else base64.b64encode(digest).decode("ascii")
        return self.prefix + encoded

    def verify(self, headers: dict[str, str], body: bytes) -> tuple[str, str]:
        """Compares in constant time; hex is compared case-insensitively, as senders differ."""
        got = headers.get(self.header.lower())
        if got is None:
            return "unsigned", f"no {self.header} header"
        expected = self.expected(body)
        if self.encoding == "hex":
            got, expected = got.lower(), expected.lower()
        if hmac.compare_digest(got.encode(), expected.encode()):
            return "ok", "signature valid"
        if not got.startswith(self.prefix):
            return "bad_signature", f"{self.header} does not start with {self.prefix!r}"
        return "bad_signature", f"{self.header} does not match the HMAC-SHA256 of the body with the secret"
