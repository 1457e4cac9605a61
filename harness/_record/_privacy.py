"""What a recorded case may not carry: credentials, token-like values, emails and phone numbers.

Credentials travel in headers, which are never recorded; in a body they sit under a credential key
(``password``, ``api_key``: masked by ``masking.redact``) or look like one (a JWT, an ``sk-`` key, a long
run of mixed letters and digits: masked). Emails and phone numbers are replaced by synthetic stand-ins
that are stable for the recording (the same address is the same stand-in everywhere), so a conversation
about one person still replays as one; they are keyed with a per-recording secret, so a stand-in does
not reveal the address it replaces to anyone who can guess it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from typing import Any

from harness._report.masking import MASK, redact
from harness._verdict._checks._quality import pii_spans

_TOKENS = (
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),  # a JWT
    re.compile(r"\b(?:sk|pk|rk|ghp|gho|xox[abpr]|AKIA|whsec)[-_][A-Za-z0-9_-]{12,}"),  # vendor key prefixes
    re.compile(r"\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    # A long unbroken run that mixes letters and digits: how generated tokens look, and words never do.
    re.compile(r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}\b"),
)

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

_STAND_IN = re.compile(r"person-[0-9a-f]{8}@example\.com|\+1 555-01\d\d")
"""What ``_stand_in`` writes: left as it is, so an answer that echoes a stand-in keeps it (scrubbing is idempotent)."""


class Scrubber:
    """Masks secrets and replaces personal data in the values a recording keeps."""

    def __init__(self, known_secrets: Iterable[str] = (), key: bytes | None = None) -> None:
        self.known_secrets = set(known_secrets)
        self._key = key or secrets.token_bytes(16)
        self.replaced = 0
        """Emails, phone numbers and token-like values replaced so far."""

    def add_secret(self, value: str) -> None:
        """A value seen where a credential goes (an Authorization header): masked wherever it turns up."""
        if value:
            self.known_secrets.add(value)

    def scrub(self, value: Any) -> Any:
        """A copy of a JSON-like value with credentials masked and personal data replaced."""
        value = redact(value, tuple(self.known_secrets))
        return self._walk(value)

    def scrub_text(self, text: str) -> str:
        """One string, scrubbed."""
        for pattern in _TOKENS:
            text = pattern.sub(self._mask_token, text)
        spans = [span for span in pii_spans(text) if not _STAND_IN.fullmatch(text[span[0] : span[1]].strip())]
        for start, end, kind in reversed(spans):
            text = text[:start] + self._stand_in(text[start:end], kind) + text[end:]
        self.replaced += len(spans)
        return text

    def _mask_token(self, match: re.Match[str]) -> str:
        if _UUID.fullmatch(match.group(0)):
            return match.group(0)  # an identifier (a conversation, a user), not a credential
        self.replaced += 1
        return MASK

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, dict):
            return {key: self._walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._walk(item) for item in value]
        return value

    def _stand_in(self, value: str, kind: str) -> str:
        digest = hmac.new(self._key, value.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()
        if kind == "email address":
            return f"person-{digest[:8]}@example.com"
        # 555-01xx numbers are reserved for fiction: a stand-in never reaches a real line.
        return f"+1 555-01{int(digest[:4], 16) % 100:02d}"
