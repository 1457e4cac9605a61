"""The runner's slots: a bound on runs at once, arrival order, a hurried case next, no slot lost to a cancel."""

from __future__ import annotations

import asyncio

from harness._run._slots import Slots


async def _run(slots: Slots, key: str, started: list[str], release: asyncio.Event) -> None:
    async with slots.hold(key):
        started.append(key)
        await release.wait()


def test_runs_start_in_arrival_order_within_the_bound_and_a_hurried_one_goes_next() -> None:
    async def main() -> list[str]:
        slots, started, release = Slots(2), [], asyncio.Event()
        tasks = [asyncio.create_task(_run(slots, key, started, release)) for key in "abcde"]
        await asyncio.sleep(0)
        assert started == ["a", "b"]  # two slots: the rest wait
        slots.hurry("d")  # someone waits for d: it goes next, ahead of c
        release.set()
        await asyncio.gather(*tasks)
        return started

    assert asyncio.run(main()) == ["a", "b", "d", "c", "e"]


def test_a_key_hurried_before_it_waits_is_still_next() -> None:
    async def main() -> list[str]:
        slots, started, release = Slots(1), [], asyncio.Event()
        slots.hurry("c")
        tasks = [asyncio.create_task(_run(slots, key, started, release)) for key in "abc"]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(*tasks)
        return started

    assert asyncio.run(main()) == ["a", "c", "b"]


def test_cancelled_waiters_lose_their_place_and_no_slot() -> None:
    async def main() -> list[str]:
        slots, started, release = Slots(1), [], asyncio.Event()
        first = asyncio.create_task(_run(slots, "a", started, release))
        waiting = asyncio.create_task(_run(slots, "b", started, release))
        await asyncio.sleep(0)
        waiting.cancel()  # cancelled while queued
        await asyncio.sleep(0)
        release.set()
        await first
        # The slot a held went back: a newcomer gets it at once; then one handed a slot as it is cancelled passes it on.
        release.clear()
        holder = asyncio.create_task(_run(slots, "c", started, release))
        handed = asyncio.create_task(_run(slots, "d", started, release))
        last = asyncio.create_task(_run(slots, "e", started, release))
        await asyncio.sleep(0)
        release.set()
        await asyncio.sleep(0)  # c ends and hands its slot to d, not yet running
        handed.cancel()
        # A slot lost with d would leave e waiting for ever: bounded here, so that fails instead of hanging.
        await asyncio.wait_for(asyncio.gather(holder, last, handed, return_exceptions=True), 5)
        return started

    assert asyncio.run(main()) == ["a", "c", "e"]
