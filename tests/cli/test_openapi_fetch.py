"""Fetching a service's OpenAPI document: untrusted bytes, bounded in size and in time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from harness._errors import HarnessError
from harness._run._negative import fetch_openapi
from tests.support.scripted_http import END, RawRequest, ScriptedServer, chunk, head, json_response


def _fetch(handler: object, **kwargs: object) -> object:
    async def run() -> object:
        async with ScriptedServer(handler) as server:  # type: ignore[arg-type]
            return await asyncio.to_thread(fetch_openapi, f"{server.url}/openapi.json", **kwargs)  # type: ignore[arg-type]

    return asyncio.run(run())


async def _document(request: RawRequest) -> AsyncIterator[bytes | float]:
    yield json_response(200, {"openapi": "3.1.0", "paths": {}})


async def _endless(request: RawRequest) -> AsyncIterator[bytes | float]:
    yield head(200, "application/json")
    yield chunk(b'{"paths": "')
    for _ in range(400):
        yield chunk(b"x" * 16384)
    yield END


async def _drip(request: RawRequest) -> AsyncIterator[bytes | float]:
    yield head(200, "application/json")
    for _ in range(200):  # a byte every 0.1 s: each wait is short, the whole never ends in time
        yield chunk(b" ")
        yield 0.1
    yield END


def test_a_document_is_read() -> None:
    assert _fetch(_document, timeout_s=10) == {"openapi": "3.1.0", "paths": {}}


def test_a_document_past_the_size_bound_stops_reading() -> None:
    with pytest.raises(HarnessError, match=r"is larger than 1,048,576 bytes; not reading on"):
        _fetch(_endless, timeout_s=30, max_bytes=1024**2)


def test_a_document_that_drips_stops_at_the_deadline() -> None:
    with pytest.raises(HarnessError, match=r"did not arrive within 1 s"):
        _fetch(_drip, timeout_s=1)
