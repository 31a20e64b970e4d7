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
from dagrad.settings import Settings

_slots: dict[tuple[int, int], threading.BoundedSemaphore] = {}
_lock = threading.Lock()


def _semaphore(settings: Settings) -> threading.BoundedSemaphore:
    key = (id(settings), settings.max_concurrent_runs)
    with _lock:
        if key not in _slots:
            _slots[key] = threading.BoundedSemaphore(settings.max_concurrent_runs)
        return _slots[key]


@contextmanager
def run_slot(settings: Settings) -> Iterator[None]:
    slots = _semaphore(settings)
    if not slots.acquire(timeout=settings.queue_seconds):
        raise GraphErrors(
            [
                GraphError(
                    code="limit",
                    message=f"the server is busy: {settings.max_concurrent_runs} runs are in progress and none "
                    f"finished within {settings.queue_seconds:g} s. Try again in a moment.",
                )
            ],
            status=503,
        )
    try:
        yield
    finally:
        slots.release()


@contextmanager
def free_slot(settings: Settings) -> Iterator[bool]:
    """A slot if one is free now (True), else False at once: for callers that must not wait."""
    slots = _semaphore(settings)
    got = slots.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            slots.release()
