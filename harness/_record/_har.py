"""HAR 1.2 (the format browsers' devtools, mitmproxy and API clients export) to exchanges.

http://www.softwareishard.com/blog/har-12-spec/: ``log.entries[]`` each hold a ``request`` (method, url,
headers, ``postData.text``) and a ``response`` (status, headers, ``content.text``, base64 when
``content.encoding`` says so). The content is already decoded, so a ``Content-Encoding`` header is
dropped. A file that is not HAR gets one message naming what is wrong and where.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness._errors import HarnessUsageError
from harness._record._exchange import Exchange

MAX_HAR_BYTES = 512 * 1024**2
"""Largest HAR file read (a browser session with media can be huge; cases need only the API calls)."""


def read_har(path: Path) -> Iterator[Exchange]:
    """The exchanges of a HAR file in order; ``HarnessUsageError`` if it cannot be read as HAR 1.x."""
    try:
        size = path.stat().st_size
        if size > MAX_HAR_BYTES:
            raise HarnessUsageError(
                f"{path}: {size:,} bytes, over the {MAX_HAR_BYTES:,} bytes read; export fewer requests"
            )
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise HarnessUsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise HarnessUsageError(f"{path}: cannot read it ({exc.strerror})") from None
    except ValueError as exc:
        raise HarnessUsageError(f"{path}: not JSON ({exc}); a HAR file is JSON with a 'log' object") from None
    log = data.get("log") if isinstance(data, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise HarnessUsageError(f"{path}: not a HAR file (no log.entries list); export it as HAR from the tool")
    for index, entry in enumerate(entries):
        try:
            yield _exchange(entry)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise HarnessUsageError(
                f"{path}: log.entries[{index}] is not a HAR 1.2 entry ({type(exc).__name__}: {exc}); "
                "it needs request.method, request.url and response.status"
            ) from None


def _exchange(entry: dict[str, Any]) -> Exchange:
    request, response = entry["request"], entry["response"]
    url = urlsplit(str(request["url"]))
    post = request.get("postData") or {}
    content = response.get("content") or {}
    text = content.get("text") or ""
    body = base64.b64decode(text) if content.get("encoding") == "base64" else str(text).encode("utf-8")
    status = int(response["status"])
    return Exchange(
        method=str(request["method"]).upper(),
        path=url.path or "/",
        query=url.query,
        request_headers=_headers(request.get("headers")),
        request_body=str(post.get("text") or "").encode("utf-8"),
        # 0: the request got no response (a browser's blocked or aborted request).
        status=status if status > 0 else None,
        response_headers={
            k: v for k, v in _headers(response.get("headers")).items() if k.lower() != "content-encoding"
        },
        response_body=body,
    )


def _headers(items: Any) -> dict[str, str]:
    if not isinstance(items, list):
        return {}
    return {str(item["name"]): str(item["value"]) for item in items if isinstance(item, dict)}
