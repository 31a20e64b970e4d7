"""Items (run slots, idle workers) handed to waiting coroutines in the order they came.

One worker pool may serve several event loops (Starlette's test client opens one per request),
where an asyncio primitive belongs to one loop; and waiting in a thread costs a hop per request
(on the 4.1 DAG with 8 clients, a third of the server's throughput: bench/README.md). So a waiter
parks a future of its own loop here, and whoever gives an item back hands it to the oldest waiter
through that loop's call_soon_threadsafe.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class Handoff(Generic[T]):
    def __init__(self, items: Iterable[T] = ()) -> None:
        self._items: deque[T] = deque(items)
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[T]]] = deque()
        self._lock = threading.Lock()

    async def take(self, deadline: float) -> T | None:
        """An item, waiting until `deadline` (time.monotonic()) at most; None if none came."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._items and not self._waiters:
                return self._items.pop()  # the item given back last: a worker still warm from its last job
            future: asyncio.Future[T] = loop.create_future()
            waiter = (loop, future)
            self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            await self._abandon(waiter)
            return None
        except asyncio.CancelledError:
            await self._abandon(waiter)
            raise

    async def _abandon(self, waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[T]]) -> None:
        with self._lock:
            granted = waiter not in self._waiters
            if not granted:
                self._waiters.remove(waiter)
        if granted:  # an item is on its way to the future given up: let _grant run and pass it on
            await asyncio.sleep(0)

    def put(self, item: T) -> None:
        """Give an item back: to the oldest waiter, else to the free items."""
        with self._lock:
            while self._waiters:
                loop, future = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(self._grant, future, item)
                    return
                except RuntimeError:  # that waiter's loop is closed: the next one
                    continue
            self._items.append(item)

    def _grant(self, future: asyncio.Future[T], item: T) -> None:
        if future.done():  # it timed out or was cancelled meanwhile
            self.put(item)
        else:
            future.set_result(item)
