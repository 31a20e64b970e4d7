"""Admission control: how many runs may hold tensors at the same time.

Each run alone is kept under `max_run_bytes` by the compiler; this keeps a classroom's
simultaneous runs together under `max_concurrent_runs * max_run_bytes`. A run that finds
every slot taken waits up to `queue_seconds`, then gets a 503 that says why.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dagrad.errors import GraphError, GraphErrors


class RunSlots:
    def __init__(self, count: int, queue_seconds: float) -> None:
        self.count = count
        self.queue_seconds = queue_seconds
        self._slots = threading.BoundedSemaphore(count)

    @contextmanager
    def wait(self) -> Iterator[None]:
        """A slot, waiting up to queue_seconds for one; else a 503."""
        if not self._slots.acquire(timeout=self.queue_seconds):
            raise GraphErrors(
                [
                    GraphError(
                        code="limit",
                        message=f"the server is busy: {self.count} runs are in progress and none finished "
                        f"within {self.queue_seconds:g} s. Try again in a moment.",
                    )
                ],
                status=503,
            )
        try:
            yield
        finally:
            self._slots.release()

    @contextmanager
    def if_free(self) -> Iterator[bool]:
        """A slot if one is free now (True), else False at once: for callers that must not wait."""
        got = self._slots.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                self._slots.release()
