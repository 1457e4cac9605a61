"""CallbackReceiver against hostile senders: oversized bodies and posts to paths no job expects cost
neither memory nor a result. Real receiver on loopback, real httpx posts, memory measured with tracemalloc."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator

import httpx
import pytest

from harness._delivery import CallbackReceiver
from harness._delivery._receiver import KEPT_PER_JOB
from harness._errors import HarnessError

MB = 1024 * 1024


async def _chunks(size: int, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A streamed body (no Content-Length): the receiver has to count as it reads."""
    block = b"x" * chunk
    for _ in range(size // chunk):
        yield block


async def _post_measured(url: str, size: int, *, streamed: bool) -> tuple[int, int]:
    """POST ``size`` bytes; (status, peak bytes allocated in this process while it was handled)."""
    content = _chunks(size) if streamed else b"x" * size
    async with httpx.AsyncClient(timeout=30.0) as client:
        tracemalloc.start()
        try:
            status = (await client.post(url, content=content)).status_code
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return status, peak


def test_a_20_mb_body_is_answered_413_without_being_kept() -> None:
    async def main() -> None:
        with CallbackReceiver() as receiver:
            slot = receiver.expect()
            status, peak = await _post_measured(slot.url, 20 * MB, streamed=True)
            assert status == 413
            # Read up to the 10 MB limit and dropped; buffering it all took 40 MB.
            assert peak < 15 * MB
            declared = await _post_measured(slot.url, 20 * MB, streamed=False)
            assert declared[0] == 413  # refused on its Content-Length
            deliveries, _ = slot.close()
        assert [(d.verdict, d.answered, d.body, d.authentic) for d in deliveries] == [
            ("too_large", 413, b"", False)
        ] * 2
        assert "10485760 bytes" in deliveries[0].detail

    asyncio.run(main())


def test_the_body_limit_is_configurable_and_a_body_at_the_limit_is_accepted() -> None:
    async def main() -> None:
        with CallbackReceiver(max_body_bytes=MB) as receiver:
            slot = receiver.expect()
            status, peak = await _post_measured(slot.url, 20 * MB, streamed=True)
            assert status == 413
            assert peak < 4 * MB
            async with httpx.AsyncClient() as client:
                fits = b'"' + b"x" * (MB - 2) + b'"'
                assert (await client.post(slot.url, content=fits)).status_code == 200
            deliveries, _ = slot.close()
        assert [d.verdict for d in deliveries] == ["too_large", "unverified"]
        assert len(deliveries[1].payload) == MB - 2

    asyncio.run(main())
    with pytest.raises(HarnessError, match="max_body_bytes"):
        CallbackReceiver(max_body_bytes=0)


def test_a_jobs_url_keeps_a_bounded_share_of_deliveries_however_often_it_is_posted_to() -> None:
    async def main() -> None:
        with CallbackReceiver(max_body_bytes=MB) as receiver:
            by_count = receiver.expect()
            by_bytes = receiver.expect()
            async with httpx.AsyncClient(timeout=30.0) as client:
                posts = range(KEPT_PER_JOB + 5)
                counted = [(await client.post(by_count.url, content=b"{}")).status_code for _ in posts]
                tracemalloc.start()
                try:
                    big = b'"' + b"x" * (MB * 9 // 10) + b'"'
                    sized = [(await client.post(by_bytes.url, content=big)).status_code for _ in range(30)]
                    peak = tracemalloc.get_traced_memory()[1]
                finally:
                    tracemalloc.stop()
            kept_by_count, _ = by_count.close()
            kept_by_bytes, _ = by_bytes.close()
        assert counted == [200] * KEPT_PER_JOB + [429] * 5
        assert (len(kept_by_count), by_count.refused) == (KEPT_PER_JOB, 5)
        # Twice the 1 MB limit: the third 0.9 MB body is read (1.8 MB kept before it), the rest are not.
        assert sized == [200] * 3 + [429] * 27
        assert (len(kept_by_bytes), by_bytes.refused) == (3, 27)
        assert peak < 12 * MB  # 30 MB were posted; three bodies, each read once and parsed once, were kept

    asyncio.run(main())


def test_posts_to_unknown_paths_are_counted_and_not_kept() -> None:
    async def main() -> None:
        with CallbackReceiver() as receiver:
            status, peak = await _post_measured(receiver.url + "/callbacks/invented", 20 * MB, streamed=True)
            assert status == 404
            assert peak < 4 * MB  # the body is never read
            async with httpx.AsyncClient() as client:
                for number in range(120):
                    response = await client.post(f"{receiver.url}/elsewhere/{number}", content=b"{}")
                    assert response.status_code == 404
            assert receiver.unexpected_count == 121
            kept = receiver.unexpected_deliveries()
            # A flood costs a counter: only the first hundred are kept, and none with its body.
            assert len(kept) == 100
            assert kept[0].path == "/callbacks/invented"
            assert {d.body for d in kept} == {b""}
            assert {d.answered for d in kept} == {404}

    asyncio.run(main())


def test_a_rejected_delivery_does_not_end_the_wait() -> None:
    async def main() -> None:
        secret = "whsec_" + "aGFybmVzcy10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5YWI="
        with CallbackReceiver(secret=secret) as receiver:
            slot = receiver.expect()
            async with httpx.AsyncClient() as client:
                assert (await client.post(slot.url, json={"forged": True})).status_code == 401
            assert not await slot.wait(0.3)
            deliveries, _ = slot.close()
            async with httpx.AsyncClient() as client:
                assert (await client.post(slot.url, json={"forged": "late"})).status_code == 401
            # A late forgery is no sign of a slow service: not counted as a late callback.
            assert receiver.late_deliveries() == []
        assert [d.verdict for d in deliveries] == ["unsigned"]

    asyncio.run(main())
