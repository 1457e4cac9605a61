"""Mask secrets before anything is written to a transcript, a report or a ``curl`` reproduction.

Two mechanisms, because neither alone is enough: headers and keys that carry credentials by *name*
(``Authorization``, ``Cookie``, ``api_key``) are masked whatever their value, and known secret *values*
(the QA token, the callback secret) are masked wherever they appear in free text, also in the forms a
service is likely to echo them in: URL-encoded, base64 and JSON-escaped.

Every channel that writes text goes through :func:`redact_text`: the records, the failure text pytest
and allure-pytest keep, captured output, ``run.json``, ``summary.md``, junit and the terminal.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MASK", "redact", "redact_headers", "redact_text"]

MASK = "***"

# Header names whose whole value is a credential. Authorization keeps its scheme so a report still
# says *how* the request authenticated ("Bearer ***" vs "Basic ***").
_SCHEME_HEADERS = frozenset({"authorization", "proxy-authorization"})
_SECRET_HEADERS = frozenset({"cookie", "set-cookie", "x-api-key", "api-key", "x-auth-token", "x-qa-token"})

# JSON keys whose value is a credential; exact names only, so output fields such as "tokens" survive.
_SECRET_KEYS = frozenset(
    {"authorization", "password", "secret", "api_key", "apikey", "access_token", "refresh_token", "client_secret"}
)

# A secret shorter than this is not masked in free text: replacing every "T" would mangle the transcript.
# Credentials that short are still masked by header name.
_MIN_SECRET_LEN = 4

# The password in ``scheme://user:password@``. The scheme is deliberately not part of the pattern:
# matching ``[A-Za-z][A-Za-z0-9+.-]*://`` made the regex engine rescan a long unbroken token from
# every start position (quadratic: 40 KB took seconds). Anchored on the literal ``://``, each scan
# stops at the next ``/``, so the whole text is read a bounded number of times. Masking after any
# ``://`` is at worst a little more than before, never less.
_URL_PASSWORD = re.compile(r"(?P<head>://[^/\s:@]+:)[^/\s@]+@")


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret value and any URL password replaced by ``***``.

    Each secret is also masked URL-encoded, base64-encoded (standard and URL-safe alphabets) and
    JSON-escaped; a Standard Webhooks secret (``whsec_<base64>``) also in its bare base64 form.
    """
    for secret in _expand(tuple(secrets)):
        text = text.replace(secret, MASK)
    return _URL_PASSWORD.sub(rf"\g<head>{MASK}@", text)


def redact_headers(headers: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    """A copy of ``headers`` with credentials masked: ``Authorization: Bearer ***``, ``Cookie: ***``."""
    secrets = tuple(secrets)
    masked: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _SCHEME_HEADERS:
            scheme, _, credentials = value.strip().partition(" ")
            masked[name] = f"{scheme} {MASK}" if credentials else MASK
        elif lower in _SECRET_HEADERS:
            masked[name] = MASK
        else:
            masked[name] = redact_text(value, secrets)
    return masked


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings) with credentials and secret values masked."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, Mapping):
        return {
            key: MASK if isinstance(key, str) and key.lower() in _SECRET_KEYS else redact(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item, secrets) for item in value]
    return value


@functools.lru_cache(maxsize=64)  # called for every string of every record: encode each secret once
def _expand(secrets: tuple[str, ...]) -> list[str]:
    """Secrets worth masking and their encoded forms, longest first so a secret containing another is masked whole."""
    found: set[str] = set()
    for secret in secrets:
        if not secret or len(secret) < _MIN_SECRET_LEN:
            continue
        found.update(_forms(secret))
        if secret.startswith("whsec_") and len(secret) - len("whsec_") >= _MIN_SECRET_LEN:
            found.add(secret[len("whsec_") :])
    return sorted(found, key=len, reverse=True)


def _forms(secret: str) -> set[str]:
    """``secret`` as written and as a service echoing it might encode it."""
    raw = secret.encode("utf-8")
    forms = {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret),  # '/' kept, as in a URL path
        urllib.parse.quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        # The secret encoded alone (a debug line showing what was sent); its '=' padding may stay behind.
        base64.b64encode(raw).decode("ascii").rstrip("="),
        base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
    }
    return {form for form in forms if len(form) >= _MIN_SECRET_LEN}
