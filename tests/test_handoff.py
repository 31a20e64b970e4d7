"""The Handoff of run slots and idle workers (api/handoff.py): first come, first served, across
event loops, and nothing lost when a waiter gives up."""

from __future__ import annotations

import asyncio
import threading
import time

from conftest import run_on_own_loop
from dagrad.api.handoff import Handoff


def test_waiters_are_served_in_the_order_they_came() -> None:
    async def main() -> list[int]:
        h: Handoff[str] = Handoff(["slot"])
        got: list[int] = []

        async def waiter(i: int) -> None:
            item = await h.take(time.monotonic() + 5)
            assert item == "slot"
            got.append(i)
            await asyncio.sleep(0.01)
            h.put(item)

        first = await h.take(time.monotonic() + 1)
        tasks = [asyncio.create_task(waiter(i)) for i in range(5)]
        await asyncio.sleep(0.05)  # all five are waiting now
        assert first is not None
        h.put(first)
        await asyncio.gather(*tasks)
        return got

    assert run_on_own_loop(main) == [0, 1, 2, 3, 4]


def test_a_waiter_that_times_out_loses_nothing() -> None:
    async def main() -> None:
        h: Handoff[int] = Handoff([1])
        held = await h.take(time.monotonic() + 1)
        assert await h.take(time.monotonic() + 0.05) is None  # nobody gave it back in time
        assert held is not None
        h.put(held)
        assert await h.take(time.monotonic() + 0.05) == 1  # still there for the next one

    run_on_own_loop(main)


def test_an_item_given_back_from_another_thread_reaches_a_waiter_on_another_loop() -> None:
    h: Handoff[int] = Handoff()
    results: list[int | None] = []

    def on_its_own_loop() -> None:
        results.append(asyncio.run(h.take(time.monotonic() + 5)))

    t = threading.Thread(target=on_its_own_loop)
    t.start()
    time.sleep(0.1)
    h.put(7)
    t.join(5)
    assert results == [7]


def test_a_cancelled_waiter_passes_the_item_on() -> None:
    async def main() -> None:
        h: Handoff[int] = Handoff()
        waiting = asyncio.create_task(h.take(time.monotonic() + 5))
        await asyncio.sleep(0.01)
        waiting.cancel()
        h.put(3)  # handed to the cancelled waiter's future, or kept: either way not lost
        await asyncio.gather(waiting, return_exceptions=True)
        assert await h.take(time.monotonic() + 0.5) == 3

    run_on_own_loop(main)
