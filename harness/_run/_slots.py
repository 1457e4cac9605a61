"""The runner's slots: at most N case runs at once, started in the order submitted, except that a case
someone waits for goes next.

A process submits all of its cases at once, longest first, so the slowest start first; the items, though,
wait for results in collection order. Were the awaited case simply queued, the first item could wait behind
every case in the process, and the terminal would show nothing until then. ``hurry`` puts the awaited
case's runs at the head of the queue: it waits for one slot to free, no more.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator


class Slots:
    """At most ``size`` holders at once; the others wait in order of arrival, hurried keys first.

    Loop-bound: every method runs on the event loop that awaits ``hold``.
    """

    def __init__(self, size: int) -> None:
        self._free = size
        self._queue: list[tuple[int, int, str, asyncio.Future[None]]] = []
        self._arrival = itertools.count()
        self._hurried: set[str] = set()

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold one slot for a run of the case ``key`` while the block runs."""
        await self._acquire(key)
        try:
            yield
        finally:
            self._release()

    def hurry(self, key: str) -> None:
        """Let the runs of ``key`` have the next free slots, now and when they come to wait."""
        self._hurried.add(key)
        if any(queued == key for _, _, queued, _ in self._queue):
            self._queue = [(0 if queued == key else rank, n, queued, w) for rank, n, queued, w in self._queue]
            heapq.heapify(self._queue)

    async def _acquire(self, key: str) -> None:
        # A free slot means nobody is still waiting (``_release`` hands a slot to a waiter before freeing it).
        if self._free > 0:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._queue, (0 if key in self._hurried else 1, next(self._arrival), key, waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a slot as it was cancelled: pass it on
            raise

    def _release(self) -> None:
        while self._queue:
            waiter = heapq.heappop(self._queue)[3]
            if not waiter.done():  # a cancelled waiter gave up its place
                waiter.set_result(None)
                return
        self._free += 1
