"""Request checks that pydantic cannot do alone, raised in FastAPI's own 422 shape."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from fastapi.exceptions import RequestValidationError

MAX_URL_CHARS = 2048


def validation_error(loc: tuple[str, ...], message: str, value: object) -> RequestValidationError:
    """A ``RequestValidationError`` rendered as ``{"detail": [{"type", "loc", "msg", "input"}]}``."""
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": message, "input": value}])


def check_callback_url(url: str, allowed_hosts: Collection[str]) -> None:
    """Raise a 422 unless ``url`` is an absolute http(s) URL on an allowed host."""
    loc = ("header", "callback-url")
    if len(url) > MAX_URL_CHARS:
        raise validation_error(loc, f"Callback-Url is longer than {MAX_URL_CHARS} characters", url[:100])
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        raise validation_error(loc, f"Callback-Url is not a valid URL: {exc}", url) from None
    if parts.scheme not in ("http", "https") or not host:
        raise validation_error(
            loc, "Callback-Url must be an absolute http(s) URL, e.g. http://127.0.0.1:9000/callback", url
        )
    if host.lower() not in allowed_hosts:
        raise validation_error(
            loc,
            f"Callback-Url host {host!r} is not in the callback allow-list ({', '.join(sorted(allowed_hosts))})",
            url,
        )
