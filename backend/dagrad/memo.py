"""Small thread-safe LRU caches for work whose result depends only on its key.

Students press Run again and again on the same graph: its plan (validation and shape
inference) and its random sources (the same seed draws the same numbers) need not be
made anew each time. Both are pure functions of the graph document, so caching them
changes no result.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    def __init__(self, max_items: int, max_bytes: int = 0, size_of: Callable[[V], int] | None = None) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.size_of = size_of
        self.items: OrderedDict[K, V] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        size = self.size_of(value) if self.size_of else 0
        if self.max_bytes and size > self.max_bytes:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = value
            self.bytes += size
            while len(self.items) > self.max_items or (self.max_bytes and self.bytes > self.max_bytes):
                _, old = self.items.popitem(last=False)
                self.bytes -= self.size_of(old) if self.size_of else 0
